// The encoding half of numeric_segment.h, in three passes over the segment:
// 1. for each context (base exponent), a coarse histogram of the values both
//    modes would produce (bit length plus the next three bits), from every
//    kSampleStride-th element; from it, the mode and raw bit count with the
//    smallest estimated size;
// 2. the symbols and raw bits of every element, and each context's exact
//    symbol counts; contexts with alike counts then share frequency tables;
// 3. rANS over the symbols, last to first.
#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstring>
#include <vector>

#include "lib/delta/context_clustering.h"
#include "lib/delta/numeric_segment.h"
#include "lib/delta/rans.h"

namespace ferry::delta {
namespace {

constexpr uint32_t kEscape = 255;
// The choice of mode and raw bits needs only an estimate; large segments
// sample every fourth element for it.
constexpr size_t kSampleStride = 4;
constexpr size_t kSampleAllBelow = size_t{1} << 16;

// Appends bit fields, low bits first, into a buffer sized up front.
class BitWriter {
 public:
  BitWriter(std::vector<uint8_t>& bytes, size_t max_bytes) : bytes_(bytes) {
    bytes_.resize(max_bytes + 8);
  }
  void Put(uint64_t value, uint32_t bits) {  // bits <= 32
    pending_ |= (value & ((uint64_t{1} << bits) - 1)) << used_;
    used_ += bits;
    if (used_ >= 32) {
      StoreLittleEndian(&bytes_[size_], pending_, 4);
      size_ += 4;
      pending_ >>= 32;
      used_ -= 32;
    }
  }
  void PutWide(uint64_t value, uint32_t bits) {  // bits <= 64
    if (bits > 32) [[unlikely]] {
      Put(value, 32);
      value >>= 32;
      bits -= 32;
    }
    Put(value, bits);
  }
  std::span<const uint8_t> Finish() {
    StoreLittleEndian(&bytes_[size_], pending_, 8);
    size_ += (used_ + 7) / 8;
    return std::span(bytes_).first(size_);
  }

 private:
  std::vector<uint8_t>& bytes_;
  size_t size_ = 0;
  uint64_t pending_ = 0;  // fewer than 32 bits wait here between calls
  uint32_t used_ = 0;
};

// A value's coarse class: itself below 16, else its bit length and the three
// bits after the leading one. Values of one class span an aligned range.
struct CoarseClass {
  static int Of(uint64_t value) {
    const int length = std::bit_width(value);
    if (length <= 4) return static_cast<int>(value);
    return 16 + (length - 5) * 8 + static_cast<int>((value >> (length - 4)) & 7);
  }
  static uint64_t Low(int index) {
    if (index < 16) return static_cast<uint64_t>(index);
    const int length = (index - 16) / 8 + 5;
    return (8 + static_cast<uint64_t>((index - 16) % 8)) << (length - 4);
  }
  static int LogWidth(int index) { return index < 16 ? 0 : (index - 16) / 8 + 1; }
  static constexpr int Count(int bits) { return 16 + (bits - 4) * 8; }
};

struct Choice {
  uint8_t mode = 0;  // 0: against the base element, 1: against zero
  uint8_t raw_bits = 0;
};

// Estimated bits for a context's values with `raw_bits`, from their coarse
// histogram, taking values inside a class as evenly spread. Table bytes are
// left out: contexts share tables (context_clustering.h), which makes them
// cheap enough that the finest resolution that avoids escapes wins.
double EstimateBits(std::span<const uint32_t> classes, int raw_bits, int word_bits) {
  std::array<double, 256> cells{};
  double total = 0;
  for (uint32_t count : classes) total += count;
  const double log_total = std::log2(total);
  double bits = total * raw_bits;
  for (size_t index = 0; index < classes.size(); ++index) {
    const double count = classes[index];
    if (count == 0) continue;
    const uint64_t first = CoarseClass::Low(static_cast<int>(index)) >> raw_bits;
    const int log_width = CoarseClass::LogWidth(static_cast<int>(index));
    if (first >= kEscape) {
      cells[kEscape] += count;
      bits += count * (word_bits - raw_bits);
    } else if (log_width <= raw_bits) {
      cells[first] += count;
    } else {
      // The class covers 2^(log_width - raw_bits) symbols of its own.
      bits += count * (log_total - std::log2(count) + (log_width - raw_bits));
    }
  }
  for (double cell : cells) {
    if (cell > 0) bits += cell * (log_total - std::log2(cell));
  }
  return bits;
}

template <ElementType kType>
class SegmentEncoder {
 public:
  static constexpr ElementTraits kTraits = *TraitsOf(kType);
  using Word = WordOf<kTraits.width>;
  static constexpr int kBits = 8 * sizeof(Word);
  static constexpr ElementMapping<Word> kMapping{kTraits};

  // `symbols`, `raw` and `coded` are buffers to reuse (SegmentWriter's).
  SegmentEncoder(std::span<const SegmentPiece> pieces, std::vector<uint8_t>& symbols,
                 std::vector<uint8_t>& raw, std::vector<uint8_t>& coded)
      : pieces_(pieces), symbols_(symbols), raw_buffer_(raw), coded_buffer_(coded) {
    for (const SegmentPiece& piece : pieces) elements_ += piece.target.size() / sizeof(Word);
    context_of_key_.fill(-1);
  }

  void Encode(WireWriter& out) {
    ChooseModels();
    std::vector<SymbolCounts> counts(contexts_.size());
    std::vector<uint8_t>& symbols = symbols_;
    symbols.resize(elements_);
    BitWriter raw(raw_buffer_, elements_ * sizeof(Word));
    size_t i = 0;
    ForEachElement([&](Word base, Word target) {
      const uint32_t c = static_cast<uint32_t>(context_of_key_[kMapping.Key(base)]);
      const Context& context = contexts_[c];
      const Word value = Value(context.mode, base, target);
      const Word high = Word(value >> context.raw_bits);
      const uint32_t symbol = high >= kEscape ? kEscape : static_cast<uint32_t>(high);
      raw.PutWide(value, context.raw_bits);
      if (symbol == kEscape) [[unlikely]]
        raw.PutWide(high, kBits - context.raw_bits);
      ++counts[c][symbol];
      symbols[i++] = static_cast<uint8_t>(symbol);
    });

    std::vector<SymbolCounts> shared_counts;
    const std::vector<uint32_t> table_of = ClusterContexts(counts, shared_counts);
    std::vector<rans::FrequencyTable> tables;
    for (const SymbolCounts& table_counts : shared_counts) {
      tables.push_back(rans::FrequencyTable::FromCounts(table_counts));
    }
    // Per context, the encoder's view of its table.
    std::vector<std::array<rans::EncodeSymbol, rans::kAlphabet>> coding(contexts_.size());
    for (size_t c = 0; c < contexts_.size(); ++c) {
      const rans::FrequencyTable& table = tables[table_of[c]];
      for (int s = 0; s < rans::kAlphabet; ++s) {
        if (counts[c][s] > 0) coding[c][s] = rans::EncodeSymbol(table.frequency(s), table.start(s));
      }
    }
    rans::Encoder coder(coded_buffer_, elements_);
    i = elements_;
    ForEachElementBackwards([&](Word base) {
      --i;
      coder.Put(static_cast<int>(i % rans::kLanes),
                coding[context_of_key_[kMapping.Key(base)]][symbols[i]]);
    });

    out.U8(static_cast<uint8_t>(kType));
    out.Varint(pieces_.size());
    for (const SegmentPiece& piece : pieces_) {
      out.Varint(piece.base_index == kZeroBase ? 0 : uint64_t{piece.base_index} + 1);
      out.Varint(piece.base_offset);
      out.Varint(piece.target.size() / sizeof(Word));
    }
    out.Varint(tables.size());
    for (const rans::FrequencyTable& table : tables) table.Serialize(out);
    out.Varint(contexts_.size());
    for (size_t c = 0; c < contexts_.size(); ++c) {
      out.U8(static_cast<uint8_t>(contexts_[c].key));
      out.U8(contexts_[c].mode);
      out.U8(contexts_[c].raw_bits);
      out.Varint(table_of[c]);
    }
    std::span<const uint8_t> coded = coder.Finish();
    out.Varint(coded.size());
    out.Bytes(coded);
    std::span<const uint8_t> raw_bytes = raw.Finish();
    out.Varint(raw_bytes.size());
    out.Bytes(raw_bytes);
  }

 private:
  struct Context {
    uint32_t key = 0;
    uint8_t mode = 0;
    uint8_t raw_bits = 0;
  };

  static Word Load(const uint8_t* bytes, size_t k) {
    Word word;
    std::memcpy(&word, bytes + k * sizeof(Word), sizeof(Word));
    return word;
  }

  template <typename Visit>
  void ForEachElement(Visit&& visit) const {
    for (const SegmentPiece& piece : pieces_) {
      const size_t count = piece.target.size() / sizeof(Word);
      for (size_t k = 0; k < count; ++k) {
        visit(piece.base.empty() ? Word(0) : Load(piece.base.data(), k),
              Load(piece.target.data(), k));
      }
    }
  }

  template <typename Visit>
  void ForEachElementBackwards(Visit&& visit) const {
    for (size_t p = pieces_.size(); p-- > 0;) {
      const SegmentPiece& piece = pieces_[p];
      for (size_t k = piece.target.size() / sizeof(Word); k-- > 0;) {
        visit(piece.base.empty() ? Word(0) : Load(piece.base.data(), k));
      }
    }
  }

  static Word Value(int mode, Word base, Word target) {
    const Word predictor = mode == 0 ? kMapping.Ordered(base) : kMapping.Zero();
    return kMapping.Zigzag(Word(kMapping.Ordered(target) - predictor));
  }

  // Finds the contexts and picks each one's mode and raw bit count.
  void ChooseModels() {
    std::vector<std::array<std::vector<uint32_t>, 2>> classes;  // by context, then mode
    const size_t stride = elements_ < kSampleAllBelow ? 1 : kSampleStride;
    size_t until_sample = 0;
    ForEachElement([&](Word base, Word target) {
      const uint32_t key = kMapping.Key(base);
      int16_t& c = context_of_key_[key];
      if (c < 0) {
        c = static_cast<int16_t>(contexts_.size());
        contexts_.push_back({key, 0, 0});
        classes.push_back({std::vector<uint32_t>(CoarseClass::Count(kBits)),
                           std::vector<uint32_t>(CoarseClass::Count(kBits))});
      }
      if (until_sample-- != 0) return;
      until_sample = stride - 1;
      ++classes[c][0][CoarseClass::Of(Value(0, base, target))];
      ++classes[c][1][CoarseClass::Of(Value(1, base, target))];
    });
    for (size_t c = 0; c < contexts_.size(); ++c) {
      double best = INFINITY;
      for (uint8_t mode = 0; mode < 2; ++mode) {
        if (std::all_of(classes[c][mode].begin(), classes[c][mode].end(),
                        [](uint32_t n) { return n == 0; })) {
          continue;  // not sampled: keep the defaults
        }
        for (int raw_bits = 0; raw_bits < kBits; ++raw_bits) {
          const double bits = EstimateBits(classes[c][mode], raw_bits, kBits);
          if (bits < best) {
            best = bits;
            contexts_[c].mode = mode;
            contexts_[c].raw_bits = static_cast<uint8_t>(raw_bits);
          }
        }
      }
    }
  }

  std::span<const SegmentPiece> pieces_;
  std::vector<uint8_t>& symbols_;
  std::vector<uint8_t>& raw_buffer_;
  std::vector<uint8_t>& coded_buffer_;
  size_t elements_ = 0;
  std::vector<Context> contexts_;
  std::array<int16_t, 256> context_of_key_;
};

}  // namespace

void SegmentWriter::Encode(ElementType type, std::span<const SegmentPiece> pieces,
                           WireWriter& out) {
  WithElementType(type, [&](auto constant) {
    SegmentEncoder<decltype(constant)::value>(pieces, symbols_, raw_, coded_).Encode(out);
  });
}

}  // namespace ferry::delta
