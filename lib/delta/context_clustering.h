// Lets contexts with alike symbol statistics share one frequency table.
//
// Neighbouring exponents of one tensor tend to give the same distribution of
// symbols once their raw bit counts have absorbed the scale, so a table per
// context would mostly repeat itself. Merging greedily the pair whose merge
// saves the most bits (table bytes saved minus coding bits lost), until no
// merge saves anything, leaves few tables and lets the encoder afford fine
// symbol resolution.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "lib/delta/rans.h"

namespace ferry::delta {

using SymbolCounts = std::array<uint32_t, rans::kAlphabet>;

// For each context, the index of its shared table; the tables are numbered
// 0.. in order of first use. `merged` receives each table's summed counts.
std::vector<uint32_t> ClusterContexts(std::span<const SymbolCounts> counts,
                                      std::vector<SymbolCounts>& merged);

}  // namespace ferry::delta
