#include "common/lifecycle/shutdown_signal.h"

#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace klaxon::lifecycle {
namespace {

sigset_t ShutdownSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  return set;
}

absl::Status ErrnoError(std::string_view what, int error) {
  return absl::InternalError(absl::StrCat(std::string(what), ": ", std::strerror(error)));
}

// The first thread of this process that does not block both SIGTERM and SIGINT (its id), 0 when
// every thread blocks them, from SigBlk in /proc/self/task/<tid>/status.
absl::StatusOr<std::string> ThreadNotBlockingShutdownSignals() {
  constexpr uint64_t kMask = (uint64_t{1} << (SIGTERM - 1)) | (uint64_t{1} << (SIGINT - 1));
  std::error_code error;
  std::filesystem::directory_iterator tasks("/proc/self/task", error);
  if (error) {
    return absl::InternalError(absl::StrCat("cannot list /proc/self/task: ", error.message()));
  }
  for (auto it = tasks; it != std::filesystem::directory_iterator(); it.increment(error)) {
    if (error) break;
    std::ifstream status(it->path() / "status");
    std::string line;
    while (std::getline(status, line)) {
      if (!line.starts_with("SigBlk:")) continue;
      const uint64_t blocked = std::stoull(line.substr(7), nullptr, 16);
      if ((blocked & kMask) != kMask) return it->path().filename().string();
    }
  }
  return std::string();
}

}  // namespace

absl::StatusOr<std::unique_ptr<ShutdownSignal>> ShutdownSignal::Create() {
  const sigset_t signals = ShutdownSignals();
  sigset_t previous;
  if (const int error = pthread_sigmask(SIG_BLOCK, &signals, &previous); error != 0) {
    return ErrnoError("pthread_sigmask", error);
  }
  // A thread that does not block the signals (one started before this call) may be the one the
  // kernel delivers SIGTERM to, and the default action would end the process without draining.
  const absl::StatusOr<std::string> unblocking = ThreadNotBlockingShutdownSignals();
  if (!unblocking.ok() || !unblocking->empty()) {
    pthread_sigmask(SIG_SETMASK, &previous, nullptr);
    if (!unblocking.ok()) return unblocking.status();
    return absl::FailedPreconditionError(
        absl::StrCat("ShutdownSignal must be created before other threads start: thread ",
                     *unblocking, " does not block SIGTERM/SIGINT"));
  }
  const int signal_fd = signalfd(-1, &signals, SFD_CLOEXEC);
  if (signal_fd < 0) return ErrnoError("signalfd", errno);
  const int wake_fd = eventfd(0, EFD_CLOEXEC);
  if (wake_fd < 0) {
    const int error = errno;
    close(signal_fd);
    return ErrnoError("eventfd", error);
  }
  return std::unique_ptr<ShutdownSignal>(new ShutdownSignal(signal_fd, wake_fd));
}

ShutdownSignal::ShutdownSignal(int signal_fd, int wake_fd)
    : signal_fd_(signal_fd),
      wake_fd_(wake_fd),
      watcher_([this](std::stop_token watcher_stop) { Watch(std::move(watcher_stop)); }) {}

ShutdownSignal::~ShutdownSignal() {
  watcher_.request_stop();
  const uint64_t one = 1;
  // The watcher blocks in poll() without a timeout; this write is what wakes it.
  while (write(wake_fd_, &one, sizeof(one)) < 0 && errno == EINTR) {
  }
  watcher_.join();
  close(wake_fd_);
  close(signal_fd_);
}

void ShutdownSignal::Watch(std::stop_token watcher_stop) {
  std::array<pollfd, 2> fds = {pollfd{.fd = signal_fd_, .events = POLLIN, .revents = 0},
                               pollfd{.fd = wake_fd_, .events = POLLIN, .revents = 0}};
  while (!watcher_stop.stop_requested()) {
    if (poll(fds.data(), fds.size(), -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if ((fds[1].revents & POLLIN) != 0) return;
    if ((fds[0].revents & POLLIN) != 0) {
      signalfd_siginfo info{};
      if (read(signal_fd_, &info, sizeof(info)) == static_cast<ssize_t>(sizeof(info))) {
        Request(static_cast<int>(info.ssi_signo));
      }
    }
  }
}

void ShutdownSignal::Request(int signal_number) {
  if (claimed_.exchange(true)) return;  // the first reason wins; later signals are ignored
  signal_number_.store(signal_number);
  // Stop the token (running its callbacks) before waking Wait(), so whoever returns from Wait()
  // already sees token().stop_requested().
  source_.request_stop();
  {
    const std::lock_guard lock(mutex_);
    requested_ = true;
  }
  requested_cv_.notify_all();
}

void ShutdownSignal::Trigger() { Request(0); }

void ShutdownSignal::Wait() const {
  std::unique_lock lock(mutex_);
  requested_cv_.wait(lock, [this] { return requested_; });
}

bool ShutdownSignal::WaitFor(absl::Duration timeout) const {
  std::unique_lock lock(mutex_);
  return requested_cv_.wait_for(lock, absl::ToChronoNanoseconds(timeout),
                                [this] { return requested_; });
}

}  // namespace klaxon::lifecycle
