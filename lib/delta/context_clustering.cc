#include "lib/delta/context_clustering.h"

#include <algorithm>
#include <cmath>

namespace ferry::delta {
namespace {

// Coding bits at the empirical entropy, plus the serialized table.
double Cost(const SymbolCounts& counts) {
  uint64_t total = 0;
  for (uint32_t count : counts) total += count;
  if (total == 0) return 0;
  const double log_total = std::log2(static_cast<double>(total));
  double bits = 0;
  for (uint32_t count : counts) {
    if (count > 0) bits += count * (log_total - std::log2(static_cast<double>(count)));
  }
  return bits +
         8.0 * static_cast<double>(rans::FrequencyTable::FromCounts(counts).SerializedSize());
}

SymbolCounts Sum(const SymbolCounts& a, const SymbolCounts& b) {
  SymbolCounts sum;
  for (int s = 0; s < rans::kAlphabet; ++s) sum[s] = a[s] + b[s];
  return sum;
}

}  // namespace

std::vector<uint32_t> ClusterContexts(std::span<const SymbolCounts> counts,
                                      std::vector<SymbolCounts>& merged) {
  struct Cluster {
    SymbolCounts counts;
    double cost;
    bool alive = true;
  };
  std::vector<Cluster> clusters;
  std::vector<size_t> owner(counts.size());
  for (size_t c = 0; c < counts.size(); ++c) {
    clusters.push_back({counts[c], Cost(counts[c])});
    owner[c] = c;
  }
  // saving[a][b] (a < b): bits saved by merging clusters a and b. Only the
  // row and column of a merged cluster change, so a merge costs O(n) costs.
  const size_t n = clusters.size();
  std::vector<double> saving(n * n, 0);
  auto update = [&](size_t a, size_t b) {
    const size_t low = std::min(a, b), high = std::max(a, b);
    saving[low * n + high] = clusters[low].cost + clusters[high].cost -
                             Cost(Sum(clusters[low].counts, clusters[high].counts));
  };
  for (size_t a = 0; a < n; ++a) {
    for (size_t b = a + 1; b < n; ++b) update(a, b);
  }
  while (true) {
    double best_saving = 0;
    size_t best_a = 0, best_b = 0;
    for (size_t a = 0; a < n; ++a) {
      if (!clusters[a].alive) continue;
      for (size_t b = a + 1; b < n; ++b) {
        if (clusters[b].alive && saving[a * n + b] > best_saving) {
          best_saving = saving[a * n + b];
          best_a = a;
          best_b = b;
        }
      }
    }
    if (best_saving <= 0) break;
    clusters[best_a].counts = Sum(clusters[best_a].counts, clusters[best_b].counts);
    clusters[best_a].cost = Cost(clusters[best_a].counts);
    clusters[best_b].alive = false;
    for (size_t& o : owner) {
      if (o == best_b) o = best_a;
    }
    for (size_t other = 0; other < n; ++other) {
      if (other != best_a && clusters[other].alive) update(best_a, other);
    }
  }
  // Number the surviving clusters in order of first use.
  std::vector<uint32_t> table_of(counts.size());
  std::vector<int64_t> number(clusters.size(), -1);
  merged.clear();
  for (size_t c = 0; c < counts.size(); ++c) {
    if (number[owner[c]] < 0) {
      number[owner[c]] = static_cast<int64_t>(merged.size());
      merged.push_back(clusters[owner[c]].counts);
    }
    table_of[c] = static_cast<uint32_t>(number[owner[c]]);
  }
  return table_of;
}

}  // namespace ferry::delta
