#include "tests/support/process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstddef>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <sstream>
#include <stdexcept>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "tests/support/http.h"

namespace klaxon::testing {
namespace {

int DecodeWaitStatus(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

// Claims PORT for the rest of this process by binding the abstract Unix socket
// "klaxon-test-port-PORT": unique among the processes of this network namespace, released by the
// kernel when this process exits however it exits, and leaving no file behind. False when another
// process holds the claim. The descriptor is never closed.
bool ClaimAcrossProcesses(int port) {
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  const std::string name = absl::StrCat("klaxon-test-port-", port);
  name.copy(address.sun_path + 1, sizeof(address.sun_path) - 2);  // sun_path[0] == 0: abstract
  const auto length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size());
  if (bind(fd, reinterpret_cast<sockaddr*>(&address), length) != 0) {
    close(fd);
    return false;
  }
  return true;
}

// True when nothing listens on (or otherwise holds) loopback PORT now.
bool CanBind(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(static_cast<uint16_t>(port));
  const bool bound = bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
  close(fd);
  return bound;
}

}  // namespace

ChildProcess::ChildProcess(std::vector<std::string> argv,
                           const std::map<std::string, std::string>& env, std::string log_path)
    : log_path_(std::move(log_path)) {
  std::vector<std::string> env_strings;
  for (const auto& [key, value] : env) env_strings.push_back(key + "=" + value);
  std::vector<char*> raw_argv;
  for (std::string& arg : argv) raw_argv.push_back(arg.data());
  raw_argv.push_back(nullptr);
  std::vector<char*> raw_env;
  for (std::string& entry : env_strings) raw_env.push_back(entry.data());
  raw_env.push_back(nullptr);

  const pid_t parent = getpid();
  pid_ = fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    // If the test dies between fork and here, the death signal was armed too late: exit.
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent) _exit(127);
    const int fd = open(log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      dup2(fd, STDOUT_FILENO);
      dup2(fd, STDERR_FILENO);
    }
    // Test processes may block signals for their own threads; a child must start clean.
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    execve(raw_argv[0], raw_argv.data(), raw_env.data());
    _exit(127);
  }
}

ChildProcess::~ChildProcess() {
  if (Running()) Stop();
}

bool ChildProcess::Running() {
  if (exit_code_ || pid_ <= 0) return false;
  int status = 0;
  if (waitpid(pid_, &status, WNOHANG) == pid_) {
    exit_code_ = DecodeWaitStatus(status);
    return false;
  }
  return true;
}

std::optional<int> ChildProcess::WaitForExit(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (Running()) {
    if (absl::Now() >= deadline) return std::nullopt;
    absl::SleepFor(absl::Milliseconds(20));
  }
  return exit_code_;
}

int ChildProcess::Stop(absl::Duration grace) {
  if (!Running()) return exit_code_.value_or(-1);
  kill(pid_, SIGTERM);
  if (std::optional<int> code = WaitForExit(grace)) return *code;
  kill(pid_, SIGKILL);
  return WaitForExit(absl::Seconds(5)).value_or(-1);
}

void ChildProcess::RequestStop() {
  if (Running()) kill(pid_, SIGTERM);
}

int ChildProcess::Kill() {
  if (!Running()) return exit_code_.value_or(-1);
  kill(pid_, SIGKILL);
  return WaitForExit(absl::Seconds(10)).value_or(-1);
}

std::string ChildProcess::Log() const {
  std::ifstream in(log_path_);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

::testing::AssertionResult WaitUntilServing(ChildProcess& process, const std::string& url,
                                            absl::Duration timeout, Serving serving) {
  const absl::Time deadline = absl::Now() + timeout;
  for (long status = HttpGet(url);
       status != 200 && (serving == Serving::kAnswers200 || status == 0); status = HttpGet(url)) {
    if (!process.Running()) {
      return ::testing::AssertionFailure() << "it exited before " << url << " answered:\n"
                                           << process.Log();
    }
    if (absl::Now() >= deadline) {
      return ::testing::AssertionFailure()
             << url << " did not answer 200 within " << timeout << ":\n"
             << process.Log();
    }
    absl::SleepFor(absl::Milliseconds(50));
  }
  return ::testing::AssertionSuccess();
}

std::map<std::string, std::string> SanitizerEnvironment() {
  std::map<std::string, std::string> env;
  for (const char* name : {"ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"}) {
    if (const char* value = std::getenv(name)) env[name] = value;
  }
  return env;
}

std::map<std::string, std::string> ToolEnvironment() {
  std::map<std::string, std::string> env = SanitizerEnvironment();
  for (const char* name : {"PATH", "HOME", "KLAXON_CACHE", "JAVA_HOME"}) {
    if (const char* value = std::getenv(name)) env[name] = value;
  }
  return env;
}

int FreePort() {
  // Outside the kernel's ephemeral range (net.ipv4.ip_local_port_range, 32768-60999 on Debian),
  // so no outgoing connection of this or another test can take the port between now and the
  // moment a service binds it; never the same port twice in one test process; and never a port
  // another test process has claimed.
  static constexpr int kFirst = 20000;
  static constexpr int kCount = 12000;
  static std::mutex mutex;
  static int next = kFirst + static_cast<int>(getpid() % kCount);
  std::lock_guard<std::mutex> lock(mutex);
  for (int tried = 0; tried < kCount; ++tried) {
    const int port = next;
    next = kFirst + (next - kFirst + 1) % kCount;
    if (ClaimAcrossProcesses(port) && CanBind(port)) return port;
  }
  throw std::runtime_error(absl::StrCat("no free loopback port in ", kFirst, "-",
                                        kFirst + kCount - 1,
                                        "; are stale test processes running?"));
}

}  // namespace klaxon::testing
