#include "lib/delta/rans.h"

#include <gtest/gtest.h>

#include <random>

namespace ferry::delta::rans {
namespace {

uint32_t Sum(const FrequencyTable& table) {
  uint32_t sum = 0;
  for (int s = 0; s < kAlphabet; ++s) sum += table.frequency(s);
  return sum;
}

TEST(RansTest, NormalizedTablesSumToTheScaleAndKeepEverySymbol) {
  std::array<uint32_t, kAlphabet> counts{};
  counts[7] = 1000000;
  FrequencyTable lone = FrequencyTable::FromCounts(counts);
  EXPECT_EQ(Sum(lone), kScale);
  EXPECT_LT(lone.frequency(7), kScale);  // a lone symbol leaves room for a neighbour

  std::mt19937 random(1);
  for (int s = 0; s < kAlphabet; ++s) counts[s] = random() % 3 == 0 ? 0 : 1 + random() % 50;
  counts[3] = 10000000;
  FrequencyTable many = FrequencyTable::FromCounts(counts);
  EXPECT_EQ(Sum(many), kScale);
  for (int s = 0; s < kAlphabet; ++s) EXPECT_EQ(many.frequency(s) > 0, counts[s] > 0) << s;

  WireWriter out;
  many.Serialize(out);
  EXPECT_EQ(out.size(), many.SerializedSize());
  WireReader in(out.bytes());
  FrequencyTable parsed = FrequencyTable::Parse(in);
  ASSERT_TRUE(in.ok());
  for (int s = 0; s < kAlphabet; ++s) EXPECT_EQ(parsed.frequency(s), many.frequency(s));
}

TEST(RansTest, ParseRejectsTablesThatDoNotSumToTheScale) {
  WireWriter out;
  out.Varint(2);
  out.Varint(100);
  out.Varint(200);
  WireReader in(out.bytes());
  (void)FrequencyTable::Parse(in);
  EXPECT_FALSE(in.ok());
}

TEST(RansTest, InterleavedLanesWithSeveralTablesRoundTrip) {
  std::mt19937 random(2);
  std::vector<FrequencyTable> tables;
  for (int t = 0; t < 3; ++t) {
    std::array<uint32_t, kAlphabet> counts{};
    for (int s = 0; s < 40; ++s) counts[s] = 1 + random() % (1000 >> (s / 4));
    counts[255] = 1;
    tables.push_back(FrequencyTable::FromCounts(counts));
  }
  const size_t n = 100003;
  std::vector<int> table_of(n), symbols(n);
  for (size_t i = 0; i < n; ++i) {
    table_of[i] = static_cast<int>(random() % 3);
    do {
      symbols[i] = static_cast<int>(random() % 256);
    } while (tables[table_of[i]].frequency(symbols[i]) == 0);
  }
  std::vector<uint8_t> buffer;
  Encoder encoder(buffer, n);
  for (size_t i = n; i-- > 0;) {
    const FrequencyTable& table = tables[table_of[i]];
    encoder.Put(static_cast<int>(i % kLanes),
                EncodeSymbol(table.frequency(symbols[i]), table.start(symbols[i])));
  }
  std::span<const uint8_t> stream = encoder.Finish();
  std::vector<uint8_t> padded(stream.begin(), stream.end());
  padded.resize(padded.size() + 2);

  std::vector<DecodeTable> decode(3);
  for (int t = 0; t < 3; ++t) tables[t].FillDecodeTable(decode[t]);
  const uint8_t* in = padded.data();
  uint32_t states[kLanes];
  for (uint32_t& state : states) {
    state = static_cast<uint32_t>(LoadLittleEndian(in, 4));
    in += 4;
  }
  for (size_t i = 0; i < n; ++i) {
    ASSERT_EQ(DecodeSymbol(states[i % kLanes], decode[table_of[i]], in),
              static_cast<uint32_t>(symbols[i]))
        << i;
  }
  EXPECT_EQ(in, padded.data() + stream.size());
  for (uint32_t state : states) EXPECT_EQ(state, kLower);
}

}  // namespace
}  // namespace ferry::delta::rans
