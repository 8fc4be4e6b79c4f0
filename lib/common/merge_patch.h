// JSON merge patches (RFC 7386) computed from two documents: the smallest
// patch that turns `before` into `after`. Objects are compared member by
// member; arrays and scalars are replaced whole, as RFC 7386 applies them; a
// member only in `before` becomes null (which removes it).
#pragma once

#include <nlohmann/json.hpp>

namespace ferry {

// An empty object when nothing changed.
nlohmann::json MergePatchBetween(const nlohmann::json& before, const nlohmann::json& after);

}  // namespace ferry
