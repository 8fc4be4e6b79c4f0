// Clock-event reason bits to names, with NVML's documented bit values.
#include "lib/gpu/clock_event_reasons.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace ferry::gpu {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

TEST(ClockEventReasons, NamesEveryDocumentedBitInBitOrder) {
  EXPECT_THAT(ClockEventReasonNames(kClocksNamedReasons),
              ElementsAre("GpuIdle", "ApplicationsClocksSetting", "SwPowerCap", "HwSlowdown",
                          "SyncBoost", "SwThermalSlowdown", "HwThermalSlowdown",
                          "HwPowerBrakeSlowdown", "DisplayClockSetting"));
}

TEST(ClockEventReasons, BitValuesAreNvmls) {
  EXPECT_THAT(ClockEventReasonNames(0x8), ElementsAre("HwSlowdown"));
  EXPECT_THAT(ClockEventReasonNames(0x40), ElementsAre("HwThermalSlowdown"));
  EXPECT_THAT(ClockEventReasonNames(0x80), ElementsAre("HwPowerBrakeSlowdown"));
  EXPECT_THAT(ClockEventReasonNames(0x20), ElementsAre("SwThermalSlowdown"));
  EXPECT_THAT(ClockEventReasonNames(0x4), ElementsAre("SwPowerCap"));
  EXPECT_THAT(ClockEventReasonNames(0x1), ElementsAre("GpuIdle"));
}

TEST(ClockEventReasons, NoBitsNoNames) { EXPECT_THAT(ClockEventReasonNames(0), IsEmpty()); }

TEST(ClockEventReasons, NewerBitsAreNamedByNumber) {
  EXPECT_THAT(ClockEventReasonNames(0x200 | 0x1), ElementsAre("GpuIdle", "Bit9"));
  EXPECT_THAT(ClockEventReasonNames(uint64_t{1} << 63), ElementsAre("Bit63"));
}

}  // namespace
}  // namespace ferry::gpu
