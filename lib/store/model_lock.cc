#include "lib/store/model_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <string>

namespace ferry::store {

Result<ModelLock> ModelLock::Acquire(const ModelLayout& layout) {
  const std::filesystem::path path = layout.lock();
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644));
  if (!fd.valid()) return ErrnoError("open lock file", path, errno);
  while (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
    if (errno == EINTR) continue;
    if (errno != EWOULDBLOCK) return ErrnoError("lock", path, errno);
    // The holder may not have written its pid yet; then we say so.
    Result<std::string> holder = ReadFileToString(path);
    const std::string pid = holder.ok() && !holder->empty() ? "pid " + *holder : "pid unknown";
    return MakeError(ErrorCode::kUnavailable, "another ferry process is updating model " +
                                                  layout.model + " (" + pid +
                                                  "); wait for it to finish, then retry");
  }
  // The pid only names us in another writer's error, so failing to write it
  // (a full disk) must not stop us: Remove is how a user frees space.
  const std::string pid = std::to_string(::getpid());
  if (::ftruncate(fd.get(), 0) == 0) {
    [[maybe_unused]] const ssize_t ignored = ::pwrite(fd.get(), pid.data(), pid.size(), 0);
  }
  return ModelLock(std::move(fd));
}

}  // namespace ferry::store
