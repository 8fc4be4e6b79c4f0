#include "lib/artifact/sign.h"

#include <gtest/gtest.h>

namespace ferry {
namespace {

TEST(SignTest, SignatureVerifiesWithThePublicKeyOnly) {
  Result<SigningKey> key = SigningKey::Generate();
  ASSERT_TRUE(key.ok()) << key.error().message;
  const std::string message = "{\"format\": \"ferry.manifest/v1\"}";
  Result<std::string> signature = key->Sign(message);
  ASSERT_TRUE(signature.ok());
  EXPECT_EQ(signature->size(), kEd25519SignatureSize);

  // Through PEM, as the files `ferryctl keygen` writes travel.
  Result<VerifyingKey> public_key = VerifyingKey::FromPem(key->Public().ToPem());
  ASSERT_TRUE(public_key.ok()) << public_key.error().message;
  EXPECT_TRUE(public_key->Verify(message, *signature).ok());
}

TEST(SignTest, AnyFlippedBitInMessageOrSignatureIsRejected) {
  Result<SigningKey> key = SigningKey::Generate();
  ASSERT_TRUE(key.ok());
  const std::string message = "manifest bytes";
  const std::string signature = *key->Sign(message);
  const VerifyingKey public_key = key->Public();
  for (size_t bit = 0; bit < message.size() * 8; ++bit) {
    std::string damaged = message;
    damaged[bit / 8] = static_cast<char>(damaged[bit / 8] ^ (1 << (bit % 8)));
    EXPECT_EQ(public_key.Verify(damaged, signature).error().code, ErrorCode::kCorrupt) << bit;
  }
  for (size_t bit = 0; bit < signature.size() * 8; ++bit) {
    std::string damaged = signature;
    damaged[bit / 8] = static_cast<char>(damaged[bit / 8] ^ (1 << (bit % 8)));
    EXPECT_FALSE(public_key.Verify(message, damaged).ok()) << bit;
  }
  EXPECT_FALSE(public_key.Verify(message, signature.substr(1)).ok());
}

TEST(SignTest, AnotherKeysSignatureIsRejected) {
  Result<SigningKey> ours = SigningKey::Generate();
  Result<SigningKey> theirs = SigningKey::Generate();
  ASSERT_TRUE(ours.ok() && theirs.ok());
  const std::string signature = *theirs->Sign("m");
  Status verdict = ours->Public().Verify("m", signature);
  ASSERT_FALSE(verdict.ok());
  EXPECT_NE(verdict.error().message.find("another key"), std::string::npos);
}

TEST(SignTest, PrivateKeyRoundTripsThroughPemAndRejectsGarbage) {
  Result<SigningKey> key = SigningKey::Generate();
  ASSERT_TRUE(key.ok());
  Result<SigningKey> again = SigningKey::FromPem(key->ToPem());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->Public().ToPem(), key->Public().ToPem());
  EXPECT_FALSE(SigningKey::FromPem("not a key").ok());
  EXPECT_FALSE(VerifyingKey::FromPem(key->ToPem().substr(0, 40)).ok());
}

}  // namespace
}  // namespace ferry
