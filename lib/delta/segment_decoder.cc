// The decoding half of numeric_segment.h: parse and check the segment's
// header, then decode its elements in file order, block by block, straight
// into the output buffer.
//
// Safety against hostile input rests on three checks: every count, index and
// offset in the header is range-checked before use; the streams can be read
// a block's worth past their end (in place when the mapping extends that far,
// else from a padded copy, at most a segment's bytes), and the cursors are
// checked after every block;
// and at the end both streams must be consumed exactly and the rANS states
// back at their initial value. Output that still differs is caught by the
// caller's SHA-256 check.
#include <algorithm>
#include <array>
#include <cstring>
#include <vector>

#include "lib/delta/numeric_segment.h"
#include "lib/delta/rans.h"

namespace ferry::delta {
namespace {

constexpr uint32_t kEscape = 255;
constexpr size_t kBlockElements = 4096;

struct Piece {
  const uint8_t* base = nullptr;  // null: zeros
  uint64_t elements = 0;
};

struct ContextModel {
  uint8_t key = 0;
  uint8_t mode = 0;
  uint8_t raw_bits = 0;
  uint32_t table = 0;
};

struct SegmentHeader {
  ElementType type{};
  std::vector<Piece> pieces;
  uint64_t elements = 0;
  std::vector<rans::FrequencyTable> tables;
  std::vector<ContextModel> contexts;
  std::span<const uint8_t> symbols;
  std::span<const uint8_t> raw;
};

Result<SegmentHeader> ParseHeader(WireReader& in, std::span<const std::span<const uint8_t>> bases) {
  SegmentHeader header;
  header.type = static_cast<ElementType>(in.U8());
  std::optional<ElementTraits> traits = TraitsOf(header.type);
  if (!in.ok() || !traits) return CorruptDelta("a segment names an unknown element type");
  const uint64_t width = static_cast<uint64_t>(traits->width);

  const uint64_t piece_count = in.Varint();
  if (piece_count == 0 || piece_count > kMaxSegmentPieces) {
    return CorruptDelta("a segment has " + std::to_string(piece_count) + " pieces");
  }
  for (uint64_t p = 0; p < piece_count; ++p) {
    const uint64_t base = in.Varint();
    const uint64_t offset = in.Varint();
    const uint64_t elements = in.Varint();
    if (!in.ok()) return CorruptDelta("a segment's piece list ends early");
    if (elements == 0 || elements > MaxSegmentElements(width) - header.elements) {
      return CorruptDelta("a segment holds more elements than the format allows");
    }
    header.elements += elements;
    Piece& piece = header.pieces.emplace_back();
    piece.elements = elements;
    if (base == 0) continue;
    if (base > bases.size()) return CorruptDelta("a segment names a base the header does not list");
    const std::span<const uint8_t> file = bases[base - 1];
    if (offset > file.size() || elements * width > file.size() - offset) {
      return CorruptDelta("a segment reads past the end of its base");
    }
    piece.base = file.data() + offset;
  }

  const uint64_t table_count = in.Varint();
  if (!in.ok() || table_count == 0 || table_count > 256) {
    return CorruptDelta("a segment has " + std::to_string(table_count) + " frequency tables");
  }
  for (uint64_t t = 0; t < table_count && in.ok(); ++t) {
    header.tables.push_back(rans::FrequencyTable::Parse(in));
  }
  if (!in.ok()) return CorruptDelta("a segment has a malformed frequency table");
  const uint64_t context_count = in.Varint();
  if (!in.ok() || context_count == 0 || context_count > 256) {
    return CorruptDelta("a segment has " + std::to_string(context_count) + " contexts");
  }
  std::array<bool, 256> seen{};
  for (uint64_t c = 0; c < context_count && in.ok(); ++c) {
    ContextModel& context = header.contexts.emplace_back();
    context.key = in.U8();
    context.mode = in.U8();
    context.raw_bits = in.U8();
    const uint64_t table = in.Varint();
    context.table = static_cast<uint32_t>(table);
    if (!in.ok() || seen[context.key] || context.mode > 1 ||
        context.raw_bits >= 8 * traits->width || table >= table_count) {
      return CorruptDelta("a segment has a malformed context model");
    }
    seen[context.key] = true;
  }
  header.symbols = in.Bytes(in.Varint());
  header.raw = in.Bytes(in.Varint());
  if (!in.ok()) return CorruptDelta("a segment ends early");
  if (header.symbols.size() < 4 * rans::kLanes) {
    return CorruptDelta("a segment's symbol stream is short");
  }
  return header;
}

// A stream inside the delta that may be read `slack` bytes past its end.
class SlackStream {
 public:
  SlackStream(std::span<const uint8_t> stream, std::span<const uint8_t> delta, size_t slack) {
    const size_t after =
        static_cast<size_t>(delta.data() + delta.size() - stream.data()) - stream.size();
    if (after >= slack) {
      data_ = stream.data();
    } else {
      copy_.assign(stream.begin(), stream.end());
      copy_.resize(stream.size() + slack);
      data_ = copy_.data();
    }
  }
  const uint8_t* data() const { return data_; }

 private:
  const uint8_t* data_ = nullptr;
  std::vector<uint8_t> copy_;
};

template <ElementType kType>
class SegmentDecoder {
 public:
  static constexpr ElementTraits kTraits = *TraitsOf(kType);
  using Word = WordOf<kTraits.width>;
  static constexpr int kBits = 8 * sizeof(Word);
  static constexpr ElementMapping<Word> kMapping{kTraits};

  SegmentDecoder(const SegmentHeader& header, std::span<const uint8_t> delta)
      : header_(header),
        symbols_(header.symbols, delta, 2 * kBlockElements + 8),
        raw_(header.raw, delta, sizeof(Word) * kBlockElements + 16),
        tables_(header.tables.size()) {
    for (size_t t = 0; t < header.tables.size(); ++t) header.tables[t].FillDecodeTable(tables_[t]);
    // Keys the model lacks (only in a damaged delta) decode with the first
    // context: garbage out, which the caller's hash check rejects.
    context_of_key_.fill(MakeContext(header.contexts.front()));
    for (const ContextModel& model : header.contexts)
      context_of_key_[model.key] = MakeContext(model);
    symbol_cursor_ = symbols_.data();
    for (uint32_t& state : states_) {
      state = static_cast<uint32_t>(LoadLittleEndian(symbol_cursor_, 4));
      symbol_cursor_ += 4;
    }
  }

  Status Run(OutputSink& sink) {
    const uint8_t* symbol_end = symbols_.data() + header_.symbols.size();
    for (const Piece& piece : header_.pieces) {
      for (uint64_t done = 0; done < piece.elements;) {
        Result<std::span<uint8_t>> room = sink.Room();
        if (!room) return room.error();
        const size_t count = static_cast<size_t>(std::min<uint64_t>(
            {piece.elements - done, room->size() / sizeof(Word), kBlockElements}));
        if (count == 0) return CorruptDelta("it writes past the target size it declares");
        if (piece.base != nullptr) {
          DecodeBlock<true>(piece.base + done * sizeof(Word), room->data(), count);
        } else {
          DecodeBlock<false>(nullptr, room->data(), count);
        }
        sink.Commit(count * sizeof(Word));
        done += count;
        if (symbol_cursor_ > symbol_end || raw_bit_ > 8 * header_.raw.size()) {
          return CorruptDelta("a segment's streams end early");
        }
      }
    }
    const bool states_home = std::all_of(std::begin(states_), std::end(states_),
                                         [](uint32_t s) { return s == rans::kLower; });
    if (!states_home || symbol_cursor_ != symbol_end || (raw_bit_ + 7) / 8 != header_.raw.size()) {
      return CorruptDelta("a segment's streams do not decode to their end");
    }
    return OkStatus();
  }

 private:
  struct Context {
    const rans::DecodeTable* table = nullptr;
    uint64_t raw_mask = 0;
    uint32_t raw_bits = 0;
    uint32_t escape_bits = 0;
    Word keep_base = 0;  // predictor = (ordered(base) & keep_base) | zero_part
    Word zero_part = 0;
  };

  Context MakeContext(const ContextModel& model) const {
    Context context;
    context.table = &tables_[model.table];
    context.raw_bits = model.raw_bits;
    context.raw_mask = (uint64_t{1} << model.raw_bits) - 1;
    context.escape_bits = static_cast<uint32_t>(kBits - model.raw_bits);
    context.keep_base = model.mode == 0 ? Word(~Word(0)) : Word(0);
    context.zero_part = model.mode == 0 ? Word(0) : kMapping.Zero();
    return context;
  }

  // Up to 57 bits at `bit` (`mask` says how many), low bits first.
  static uint64_t Peek(const uint8_t* raw, uint64_t bit, uint64_t mask) {
    uint64_t word;
    std::memcpy(&word, raw + (bit >> 3), 8);
    return (word >> (bit & 7)) & mask;
  }
  // Up to 64 bits, advancing `bit`.
  static uint64_t ReadBits(const uint8_t* raw, uint64_t& bit, uint32_t bits) {
    const uint32_t first = std::min<uint32_t>(bits, 32);
    uint64_t value = Peek(raw, bit, (uint64_t{1} << first) - 1);
    bit += first;
    if (bits > first) {
      value |= Peek(raw, bit, (uint64_t{1} << (bits - first)) - 1) << 32;
      bit += bits - first;
    }
    return value;
  }
  [[gnu::noinline, gnu::cold]] static Word ReadEscape(const uint8_t* raw, uint64_t& bit,
                                                      uint32_t bits) {
    return static_cast<Word>(ReadBits(raw, bit, bits));
  }

  // Decodes `count` elements. The four lane states live in registers, rotated
  // so that s[0] belongs to the block's first element.
  template <bool kHasBase>
  void DecodeBlock(const uint8_t* base, uint8_t* out, size_t count) {
    const size_t phase = index_ % rans::kLanes;
    uint32_t s[rans::kLanes];
    for (size_t j = 0; j < rans::kLanes; ++j) s[j] = states_[(phase + j) % rans::kLanes];
    const uint8_t* in = symbol_cursor_;
    const uint8_t* raw = raw_.data();
    uint64_t bit = raw_bit_;
    auto step = [&](uint32_t & state, size_t k) __attribute__((always_inline)) {
      Word b = 0;
      if constexpr (kHasBase) std::memcpy(&b, base + k * sizeof(Word), sizeof(Word));
      const Context& context = context_of_key_[kMapping.Key(b)];
      const uint32_t symbol = rans::DecodeSymbol(state, *context.table, in);
      Word low;
      if constexpr (kBits <= 32) {
        low = static_cast<Word>(Peek(raw, bit, context.raw_mask));
        bit += context.raw_bits;
      } else {
        low = static_cast<Word>(ReadBits(raw, bit, context.raw_bits));
      }
      Word high = static_cast<Word>(symbol);
      if (symbol == kEscape) [[unlikely]] {
        high = ReadEscape(raw, bit, context.escape_bits);
      }
      const Word value = Word(low | Word(high << context.raw_bits));
      const Word predicted = Word((kMapping.Ordered(b) & context.keep_base) | context.zero_part);
      const Word target = kMapping.Unordered(Word(predicted + kMapping.Unzigzag(value)));
      std::memcpy(out + k * sizeof(Word), &target, sizeof(Word));
    };
    size_t k = 0;
    for (; k + rans::kLanes <= count; k += rans::kLanes) {
      step(s[0], k);
      step(s[1], k + 1);
      step(s[2], k + 2);
      step(s[3], k + 3);
    }
    for (size_t j = 0; k < count; ++j, ++k) step(s[j], k);
    // The lanes' order is unchanged; index_ advancing by `count` shifts the phase.
    for (size_t j = 0; j < rans::kLanes; ++j) states_[(phase + j) % rans::kLanes] = s[j];
    index_ += count;
    symbol_cursor_ = in;
    raw_bit_ = bit;
  }

  const SegmentHeader& header_;
  SlackStream symbols_;
  SlackStream raw_;
  std::vector<rans::DecodeTable> tables_;
  std::array<Context, 256> context_of_key_;
  const uint8_t* symbol_cursor_ = nullptr;
  uint64_t raw_bit_ = 0;
  uint32_t states_[rans::kLanes] = {};
  uint64_t index_ = 0;
};

}  // namespace

Status DecodeSegment(WireReader& in, std::span<const uint8_t> delta,
                     std::span<const std::span<const uint8_t>> bases, OutputSink& sink) {
  Result<SegmentHeader> header = ParseHeader(in, bases);
  if (!header) return header.error();
  return WithElementType(header->type, [&](auto type) {
    return SegmentDecoder<decltype(type)::value>(*header, delta).Run(sink);
  });
}

}  // namespace ferry::delta
