// Standard base64 (RFC 4648, with padding), as kubeconfig `*-data` fields and
// Secret data use it. Whitespace inside the text is ignored, as Go's decoder
// used by kubectl ignores line breaks.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace ferry::kube {

std::string EncodeBase64(std::string_view bytes);
// nullopt when `text` is not base64.
std::optional<std::string> DecodeBase64(std::string_view text);

}  // namespace ferry::kube
