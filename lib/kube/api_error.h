// Turns an API server's refusal (a non-2xx answer, usually with a Status
// object as its body) into an Error whose code says what a caller can do
// and whose message names the request, the server's reason and what to try.
#pragma once

#include "lib/common/result.h"
#include "lib/kube/transport.h"

namespace ferry::kube {

Error ApiError(const HttpRequest& request, const HttpResponse& response);

}  // namespace ferry::kube
