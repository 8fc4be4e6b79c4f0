// <model>/current: a relative symlink to versions/<version>, the path serving
// pods read. Relative, so it resolves wherever a pod mounts the volume. It is
// only ever replaced whole: a new link made at a temporary name is renamed
// over it, so a reader sees the old target or the new one, never neither.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "lib/common/result.h"
#include "lib/store/layout.h"

namespace ferry::store {

// The version `current` names; nullopt if the model has none yet.
Result<std::optional<std::string>> ReadCurrent(const ModelLayout& layout);

// Points `current` at versions/<version> and makes that durable. The caller
// has made sure that version is complete.
Status SwitchCurrent(const ModelLayout& layout, std::string_view version);

}  // namespace ferry::store
