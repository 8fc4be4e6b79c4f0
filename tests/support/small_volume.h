// A real tmpfs of a given size, mounted for one test and unmounted after it:
// how tests fill a disk for real. Mounting needs root (CAP_SYS_ADMIN), which
// CI has; a test that cannot mount says so instead of passing.
#pragma once

#include <sys/mount.h>

#include <filesystem>
#include <string>

namespace ferry::testing {

class SmallVolume {
 public:
  SmallVolume(const std::filesystem::path& at, const std::string& size) : path_(at) {
    std::filesystem::create_directories(path_);
    mounted_ = ::mount("tmpfs", path_.c_str(), "tmpfs", 0, ("size=" + size).c_str()) == 0;
  }
  ~SmallVolume() {
    if (mounted_) ::umount2(path_.c_str(), MNT_DETACH);
  }
  SmallVolume(const SmallVolume&) = delete;
  SmallVolume& operator=(const SmallVolume&) = delete;

  bool mounted() const { return mounted_; }
  const std::filesystem::path& path() const { return path_; }
  bool Resize(const std::string& size) {
    return ::mount("tmpfs", path_.c_str(), "tmpfs", MS_REMOUNT, ("size=" + size).c_str()) == 0;
  }

 private:
  std::filesystem::path path_;
  bool mounted_ = false;
};

}  // namespace ferry::testing
