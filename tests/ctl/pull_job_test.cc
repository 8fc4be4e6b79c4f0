// The pull as the agent runs it (lib/pipeline/pull.h called in-process, on the
// repository the real ferryctl published from the real gpt-a checkpoints):
// staged and verified without becoming current, observed through its progress
// callback, stopped through its stop token, and refused before any byte is
// fetched when the disk cannot take it.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <mutex>
#include <stop_token>
#include <thread>
#include <vector>

#include "lib/artifact/sign.h"
#include "lib/common/log.h"
#include "lib/fetch/source.h"
#include "lib/pipeline/pull.h"
#include "lib/store/store.h"
#include "tests/ctl/ferryctl_fixture.h"

namespace ferry::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

class PullJobTest : public FerryctlTest {
 protected:
  void SetUp() override {
    Result<VerifyingKey> key = VerifyingKey::Load(Keys() / "public.key");
    ASSERT_TRUE(key.ok()) << key.error().message;
    key_.emplace(std::move(*key));
  }

  std::unique_ptr<fetch::Source> Source(uint64_t bandwidth_limit = 0) {
    fetch::FetchOptions options;
    options.bandwidth_limit = bandwidth_limit;
    Result<std::unique_ptr<fetch::Source>> source =
        fetch::OpenSource(Repository().string(), options);
    EXPECT_TRUE(source.ok()) << source.error().message;
    return source.ok() ? std::move(*source) : nullptr;
  }

  PullOptions Options(const std::string& version, const fs::path& store) {
    PullOptions options;
    options.model = "gpt-a";
    options.version = version;
    options.store_root = store;
    options.plain_progress = true;
    return options;
  }

  Result<PullReport> Run(fetch::Source& source, const PullOptions& options) {
    return ::ferry::Pull(source, *key_, options, *log_);
  }

  std::optional<VerifyingKey> key_;
  std::shared_ptr<spdlog::logger> log_ = MakeLogger("pull-job-test", LogFormat::kText);
};

// What a progress callback saw, safe to fill from the fetching threads.
struct Observed {
  std::mutex mutex;
  std::vector<PullProgress> updates;

  std::function<void(const PullProgress&)> Callback() {
    return [this](const PullProgress& now) {
      std::lock_guard lock(mutex);
      updates.push_back(now);
    };
  }
  std::vector<PullStage> Stages() {
    std::lock_guard lock(mutex);
    std::vector<PullStage> stages;
    for (const PullProgress& p : updates) {
      if (stages.empty() || stages.back() != p.stage) stages.push_back(p.stage);
    }
    return stages;
  }
};

TEST_F(PullJobTest, StagesAVersionVerifiedButNotCurrentThenActivatesItWithNothingFetched) {
  const fs::path store = StoreWithFirstVersion();
  std::unique_ptr<fetch::Source> source = Source();
  ASSERT_NE(source, nullptr);
  Observed observed;
  PullOptions options = Options("1.1.0", store);
  options.activate = false;
  options.on_progress = observed.Callback();
  Result<PullReport> staged = Run(*source, options);
  ASSERT_TRUE(staged.ok()) << staged.error().message;

  EXPECT_EQ(CurrentVersion(store), "1.0.0");
  Result<store::Store> opened = store::Store::OpenExisting(store);
  ASSERT_TRUE(opened.ok());
  EXPECT_TRUE(opened->Verify("gpt-a", "1.1.0").ok());
  EXPECT_EQ(staged->delta_from, "1.0.0");
  EXPECT_GE(staged->files_patched, 1u);
  EXPECT_EQ(staged->files_linked, 1u);  // config.json is unchanged
  EXPECT_EQ(staged->version_bytes, fs::file_size(Input("1.1.0") / "model.safetensors") +
                                       fs::file_size(Input("1.1.0") / "config.json") +
                                       fs::file_size(Input("1.1.0") / "tokenizer.json"));
  // The delta, not the model: far less than the version moved.
  EXPECT_LT(staged->bytes_fetched, staged->version_bytes / 2);
  EXPECT_EQ(observed.Stages(), (std::vector<PullStage>{PullStage::kFetching, PullStage::kStaging,
                                                       PullStage::kVerifying}));
  {
    std::lock_guard lock(observed.mutex);
    const PullProgress& last = observed.updates.back();
    EXPECT_EQ(last.total_bytes, staged->version_bytes);
    EXPECT_EQ(last.present_bytes, staged->version_bytes);
    EXPECT_EQ(last.downloaded_bytes, last.download_bytes);
    EXPECT_EQ(last.download_bytes, staged->bytes_fetched);
  }

  // Asked again, it is held already; then activation is the switch alone,
  // and it works with the repository gone.
  Result<PullReport> again = Run(*source, options);
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_TRUE(again->already_held);
  EXPECT_EQ(again->bytes_fetched, 0u);
  EXPECT_EQ(CurrentVersion(store), "1.0.0");
  fs::path gone = scratch_ / "empty-repo";
  fs::create_directories(gone);
  Result<std::unique_ptr<fetch::Source>> empty = fetch::OpenSource(gone.string());
  ASSERT_TRUE(empty.ok());
  Result<PullReport> activated = Run(**empty, Options("1.1.0", store));
  ASSERT_TRUE(activated.ok()) << activated.error().message;
  EXPECT_TRUE(activated->switched_to_held);
  EXPECT_EQ(activated->bytes_fetched, 0u);
  EXPECT_EQ(CurrentVersion(store), "1.1.0");
}

TEST_F(PullJobTest, AStopTokenCancelsADownloadAndTheNextRunFetchesOnlyWhatIsMissing) {
  const fs::path store = scratch_ / "store";
  // 1 MiB/s over ~10 MB: the whole pull would take about ten seconds.
  std::unique_ptr<fetch::Source> slow = Source(1 << 20);
  ASSERT_NE(slow, nullptr);
  std::stop_source stop;
  Observed observed;
  PullOptions options = Options("1.0.0", store);
  options.activate = false;
  options.stop = stop.get_token();
  options.on_progress = observed.Callback();
  std::jthread stopper([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    stop.request_stop();
  });
  const auto started = std::chrono::steady_clock::now();
  Result<PullReport> cancelled = Run(*slow, options);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  ASSERT_FALSE(cancelled.ok());
  EXPECT_EQ(cancelled.error().code, ErrorCode::kCancelled) << cancelled.error().message;
  EXPECT_THAT(cancelled.error().message, HasSubstr("cancelled"));
  std::printf("cancelled after %.2f s (stop asked at 1.5 s)\n", seconds);
  EXPECT_LT(seconds, 6.0) << "the pull ran on instead of stopping";
  Result<store::Store> opened = store::Store::Open(store);
  ASSERT_TRUE(opened.ok());
  EXPECT_FALSE(opened->VersionPath("gpt-a", "1.0.0").ok());
  uint64_t seen = 0;
  uint64_t planned = 0;
  {
    std::lock_guard lock(observed.mutex);
    ASSERT_FALSE(observed.updates.empty());
    seen = observed.updates.back().downloaded_bytes;
    planned = observed.updates.back().download_bytes;
  }
  EXPECT_GT(seen, 0u);
  EXPECT_LT(seen, planned);

  std::unique_ptr<fetch::Source> fast = Source();
  ASSERT_NE(fast, nullptr);
  options.stop = {};
  options.on_progress = nullptr;
  Result<PullReport> resumed = Run(*fast, options);
  ASSERT_TRUE(resumed.ok()) << resumed.error().message;
  EXPECT_LT(resumed->bytes_fetched, planned);
  EXPECT_TRUE(opened->Verify("gpt-a", "1.0.0").ok());
}

TEST_F(PullJobTest, TooLittleDiskSpaceIsRefusedBeforeAByteIsFetched) {
  const fs::path store = scratch_ / "store";
  std::unique_ptr<fetch::Source> source = Source();
  ASSERT_NE(source, nullptr);
  Observed observed;
  PullOptions options = Options("1.0.0", store);
  options.reserve_bytes = uint64_t{1} << 60;  // more than any disk has
  options.on_progress = observed.Callback();
  Result<PullReport> refused = Run(*source, options);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kNoSpace);
  EXPECT_THAT(refused.error().message, HasSubstr("not enough disk space: needs"));
  EXPECT_THAT(refused.error().message, HasSubstr("nothing was fetched"));
  EXPECT_TRUE(observed.Stages().empty());
  const fs::path cache = store / "gpt-a" / "staging" / ".1.0.0.cache" / "objects";
  EXPECT_TRUE(!fs::exists(cache) || fs::is_empty(cache));

  options.reserve_bytes = 0;
  Result<PullReport> pulled = Run(*source, options);
  ASSERT_TRUE(pulled.ok()) << pulled.error().message;
  EXPECT_EQ(CurrentVersion(store), "1.0.0");
}

}  // namespace
}  // namespace ferry::testing
