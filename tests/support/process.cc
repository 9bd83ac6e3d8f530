#include "tests/support/process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "absl/time/clock.h"
#include "tests/support/http.h"

namespace klaxon::testing {
namespace {

int DecodeWaitStatus(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
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
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
  socklen_t length = sizeof(address);
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  close(fd);
  return ntohs(address.sin_port);
}

}  // namespace klaxon::testing
