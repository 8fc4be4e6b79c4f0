#include "lib/delta/safetensors.h"

#include <gtest/gtest.h>

#include <string>

#include "lib/delta/element.h"
#include "lib/delta/wire.h"

namespace ferry::delta {
namespace {

// A file: the 8-byte length, `json`, then `data_bytes` zero bytes.
std::vector<uint8_t> File(const std::string& json, size_t data_bytes = 64) {
  std::vector<uint8_t> file(8 + json.size() + data_bytes);
  StoreLittleEndian(file.data(), json.size(), 8);
  std::copy(json.begin(), json.end(), file.begin() + 8);
  return file;
}

std::string Rejection(const std::vector<uint8_t>& file) {
  Result<SafetensorsLayout> layout = ParseSafetensors(file);
  if (layout.ok()) return "accepted";
  EXPECT_EQ(layout.error().code, ErrorCode::kInvalidArgument);
  return layout.error().message;
}

TEST(SafetensorsTest, ParsesTensorsInOffsetOrderWithMetadata) {
  Result<SafetensorsLayout> layout =
      ParseSafetensors(File(R"({"__metadata__":{"format":"pt"},)"
                            R"("b":{"dtype":"F32","shape":[2,2],"data_offsets":[16,32]},)"
                            R"("a":{"dtype":"BF16","shape":[8],"data_offsets":[0,16]},)"
                            R"("empty":{"dtype":"I8","shape":[0],"data_offsets":[32,32]}})"));
  ASSERT_TRUE(layout.ok()) << layout.error().message;
  ASSERT_EQ(layout->tensors.size(), 3u);
  EXPECT_EQ(layout->tensors[0].name, "a");
  EXPECT_EQ(layout->tensors[1].name, "b");
  EXPECT_EQ(layout->tensors[1].dtype, "F32");
  EXPECT_EQ(layout->tensors[1].shape, (std::vector<uint64_t>{2, 2}));
  EXPECT_EQ(layout->tensors[1].begin, layout->data_start + 16);
  EXPECT_EQ(layout->metadata.at("format"), "pt");
}

TEST(SafetensorsTest, AllowsGapsAndATail) {
  EXPECT_EQ(Rejection(File(R"({"a":{"dtype":"U8","shape":[4],"data_offsets":[8,12]}})")),
            "accepted");
}

TEST(SafetensorsTest, RejectsEachKindOfMalformedHeader) {
  const std::vector<std::pair<std::vector<uint8_t>, std::string>> cases = {
      {{1, 2, 3}, "shorter than the 8-byte header length"},
      {[] {
         std::vector<uint8_t> file = File("{}");
         StoreLittleEndian(file.data(), 1000, 8);
         return file;
       }(),
       "runs past"},
      {[] {
         std::vector<uint8_t> file = File("{}");
         StoreLittleEndian(file.data(), uint64_t{1} << 40, 8);
         return file;
       }(),
       "exceeds the 100000000-byte limit"},
      {File("{\"a\": "), "not valid JSON"},
      {File("[1, 2]"), "not a JSON object"},
      {File(R"({"a": 5})"), "must have exactly dtype, shape and data_offsets"},
      {File(R"({"a":{"dtype":"F32","shape":[1]}})"), "must have exactly"},
      {File(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"x":1}})"),
       "must have exactly"},
      {File(R"({"a":{"dtype":7,"shape":[1],"data_offsets":[0,4]}})"), "dtype is not a string"},
      {File(R"({"a":{"dtype":"F33","shape":[1],"data_offsets":[0,4]}})"), "unknown dtype 'F33'"},
      {File(R"({"a":{"dtype":"F32","shape":4,"data_offsets":[0,4]}})"), "shape is not an array"},
      {File(R"({"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})"), "non-negative integers"},
      {File(R"({"a":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}})"),
       "non-negative integers"},
      {File(R"({"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,4]}})"),
       "overflows"},
      {File(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0]}})"),
       "two non-negative integers"},
      {File(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[8,4]}})"), "lie outside"},
      {File(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[64,68]}})"), "lie outside"},
      {File(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}})"),
       "shape and dtype give 8 bytes but data_offsets give 4"},
      {File(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
            R"("b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})"),
       "overlap"},
      {File(R"({"__metadata__":[1]})"), "__metadata__ is not an object"},
      {File(R"({"__metadata__":{"k":1}})"), "value of 'k' is not a string"},
  };
  for (const auto& [file, expected] : cases) {
    const std::string message = Rejection(file);
    EXPECT_NE(message.find(expected), std::string::npos)
        << "expected '" << expected << "', got: " << message;
    EXPECT_NE(message.find("not a valid safetensors file"), std::string::npos) << message;
  }
}

TEST(SafetensorsTest, BuiltHeadersParseBack) {
  const std::vector<TensorSpec> specs = {{"w", "F16", {3, 5}}, {"b", "I64", {5}}};
  const std::string header = BuildSafetensorsHeader(specs, {{"name", "x"}});
  std::vector<uint8_t> file(header.begin(), header.end());
  file.resize(file.size() + 30 + 40);
  EXPECT_EQ((file.size() - 70) % 8, 0u);
  Result<SafetensorsLayout> layout = ParseSafetensors(file);
  ASSERT_TRUE(layout.ok()) << layout.error().message;
  ASSERT_EQ(layout->tensors.size(), 2u);
  EXPECT_EQ(layout->tensors[0].name, "w");
  EXPECT_EQ(layout->tensors[1].end, file.size());
}

TEST(SafetensorsTest, EveryAcceptedDtypeHasANumericCodecOfItsWidth) {
  for (const char* dtype : {"BOOL", "U8", "I8", "F8_E4M3", "F8_E5M2", "F8_E8M0", "I16", "U16",
                            "F16", "BF16", "I32", "U32", "F32", "I64", "U64", "F64"}) {
    ASSERT_TRUE(DtypeSize(dtype).has_value()) << dtype;
    const std::optional<ElementType> type = ElementTypeForDtype(dtype);
    ASSERT_TRUE(type.has_value()) << dtype;
    EXPECT_EQ(static_cast<uint64_t>(TraitsOf(*type)->width), *DtypeSize(dtype)) << dtype;
  }
}

}  // namespace
}  // namespace ferry::delta
