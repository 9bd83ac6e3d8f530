// twilio-sandbox: Klaxon's local stand-in for Twilio's REST API. Wiring only: flags and
// environment, fault rules from a file, the Pistache server, and a clean stop on SIGTERM.

#include <signal.h>

#include <algorithm>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include "CLI/CLI.hpp"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/curl/curl_handles.h"
#include "common/runtime/process_hardening.h"
#include "common/timing/clock.h"
#include "nlohmann/json.hpp"
#include "tools/twilio-sandbox/callback_scheduler.h"
#include "tools/twilio-sandbox/fault_rules.h"
#include "tools/twilio-sandbox/sandbox.h"
#include "tools/twilio-sandbox/server.h"

namespace {

void Log(const std::string& level, const std::string& message, nlohmann::json fields = {}) {
  fields["level"] = level;
  fields["msg"] = message;
  std::cout << fields.dump() << std::endl;
}

int Fail(const std::string& message) {
  Log("error", message);
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  klaxon::runtime::HardenProcessOrExit("twilio-sandbox");
  klaxon::sandbox::SandboxOptions options;
  std::string listen = "127.0.0.1:0";
  int64_t callback_delay_ms = 50;
  int64_t call_duration_s = 5;
  int64_t max_hang_ms = 30000;
  int threads = 4;
  int callback_threads = 16;
  std::string faults_file;
  std::string faults_json;
  std::string messaging_services;
  std::string api_keys;
  std::string accounts;
  klaxon::sandbox::SandboxAccount& main_account = options.accounts.front();

  CLI::App app{"Local stand-in for Twilio's REST API (Messages, Calls, status callbacks)"};
  app.add_option("--listen", listen, "host:port to listen on; port 0 picks a free one")
      ->envname("TWILIO_SANDBOX_LISTEN");
  app.add_option("--account-sid", main_account.sid, "account SID accepted")
      ->envname("TWILIO_SANDBOX_ACCOUNT_SID");
  app.add_option("--auth-token", main_account.auth_token,
                 "auth token accepted and used to sign callbacks")
      ->envname("TWILIO_SANDBOX_AUTH_TOKEN");
  app.add_option(
         "--api-keys", api_keys,
         "the account's API keys, accepted for Basic auth as the key: SK<32 hex>=<secret>,...")
      ->envname("TWILIO_SANDBOX_API_KEYS");
  app.add_option("--accounts", accounts,
                 "more accounts (subaccounts), each seeing only its own resources and signing its "
                 "callbacks with its own token: AC<32 hex>=<token>[,SK<32 hex>=<secret>...];...")
      ->envname("TWILIO_SANDBOX_ACCOUNTS");
  app.add_option("--callback-delay-ms", callback_delay_ms, "time between status steps")
      ->envname("TWILIO_SANDBOX_CALLBACK_DELAY_MS");
  app.add_option("--call-duration-s", call_duration_s,
                 "how long an answered call lasts before it completes (its CallDuration)")
      ->envname("TWILIO_SANDBOX_CALL_DURATION_S");
  app.add_option("--max-hang-ms", max_hang_ms, "upper bound of hang faults")
      ->envname("TWILIO_SANDBOX_MAX_HANG_MS");
  app.add_option("--threads", threads, "server threads")->envname("TWILIO_SANDBOX_THREADS");
  app.add_option("--callback-threads", callback_threads,
                 "status callbacks delivered at once (Twilio does not wait for one to be answered "
                 "before sending the next)")
      ->envname("TWILIO_SANDBOX_CALLBACK_THREADS")
      ->check(CLI::Range(1, 1024));
  app.add_option("--faults-file", faults_file, "JSON file of fault rules loaded at start")
      ->envname("TWILIO_SANDBOX_FAULTS_FILE");
  app.add_option("--faults", faults_json, "fault rules as inline JSON")
      ->envname("TWILIO_SANDBOX_FAULTS");
  app.add_option("--messaging-services", messaging_services,
                 "the account's Messaging Services and their pools, "
                 "MG<32 hex>=<number>,<number>;MG...=...")
      ->envname("TWILIO_SANDBOX_MESSAGING_SERVICES");
  int64_t sender_queue_limit_s = 36'000;
  app.add_option("--sender-queue-limit-s", sender_queue_limit_s,
                 "how long a sender's queue may grow before a message is refused with 21611 "
                 "(0: no limit)")
      ->envname("TWILIO_SANDBOX_SENDER_QUEUE_LIMIT_S")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--concurrency-limit", options.concurrency_limit,
                 "requests one account may have in flight at once; one more is answered 429 with "
                 "code 20429 (0: no limit)")
      ->envname("TWILIO_SANDBOX_CONCURRENCY_LIMIT")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--calls-per-second", options.calls_per_second,
                 "how many calls a second each account's calls are dialed at, as Twilio's "
                 "default of 1; calls beyond it wait queued and report the wait as queue_time "
                 "(0: no limit)")
      ->envname("TWILIO_SANDBOX_CALLS_PER_SECOND")
      ->check(CLI::NonNegativeNumber);
  std::string numbers;
  app.add_option("--numbers", numbers,
                 "each account's phone numbers and short codes, as IncomingPhoneNumbers and "
                 "SMS/ShortCodes list them: AC<32 hex>=+1...,12345;AC...=...")
      ->envname("TWILIO_SANDBOX_NUMBERS");
  std::string sms_prices;
  std::string call_prices;
  app.add_option("--sms-prices", sms_prices,
                 "price of an SMS segment by destination prefix, the longest matching: "
                 "+1=0.0079,+44=0.04,*=0.05 (default +1=0.0079,*=0.05)")
      ->envname("TWILIO_SANDBOX_SMS_PRICES");
  app.add_option("--call-prices", call_prices,
                 "price of a started call minute by destination prefix (default +1=0.014,*=0.10)")
      ->envname("TWILIO_SANDBOX_CALL_PRICES");
  app.add_option("--inbound-url", options.inbound_url,
                 "the numbers' SMS URL, where POST /sandbox/inbound posts a person's SMS "
                 "(Klaxon's http://HOST/twilio/messages/inbound)")
      ->envname("TWILIO_SANDBOX_INBOUND_URL");
  CLI11_PARSE(app, argc, argv);

  for (auto [text, rates] : {std::pair{&sms_prices, &options.prices.sms_segment_micros},
                             std::pair{&call_prices, &options.prices.call_minute_micros}}) {
    if (text->empty()) continue;
    absl::StatusOr<klaxon::twilio::PrefixPrices> parsed = klaxon::sandbox::ParsePrices(*text);
    if (!parsed.ok()) return Fail(std::string(parsed.status().message()));
    *rates = *std::move(parsed);
  }

  options.messaging_services = klaxon::sandbox::ParseMessagingServices(messaging_services);
  main_account.api_keys = klaxon::sandbox::ParseApiKeys(api_keys);
  for (klaxon::sandbox::SandboxAccount& more : klaxon::sandbox::ParseAccounts(accounts)) {
    options.accounts.push_back(std::move(more));
  }
  for (auto& [sid, owned] : klaxon::sandbox::ParseNumbers(numbers)) {
    const auto account =
        std::find_if(options.accounts.begin(), options.accounts.end(),
                     [&sid](const klaxon::sandbox::SandboxAccount& a) { return a.sid == sid; });
    if (account == options.accounts.end()) {
      return Fail(absl::StrCat("TWILIO_SANDBOX_NUMBERS names account ", sid,
                               ", which the sandbox does not have"));
    }
    account->numbers = std::move(owned);
  }

  if (options.concurrency_limit > 0 && options.concurrency_limit >= threads) {
    // A held answer holds its server thread, and a request waiting for a thread is not counted
    // yet: with no more threads than the limit, the limit is never reached. Necessary, not
    // enough: a connection stays on one thread, so give the sandbox threads well above the limit.
    return Fail(absl::StrCat("TWILIO_SANDBOX_CONCURRENCY_LIMIT (", options.concurrency_limit,
                             ") must be below TWILIO_SANDBOX_THREADS (", threads,
                             "): raise the threads"));
  }
  options.callback_delay = absl::Milliseconds(callback_delay_ms);
  options.call_duration = absl::Seconds(call_duration_s);
  options.max_hang = absl::Milliseconds(max_hang_ms);
  options.sender_queue_limit = absl::Seconds(sender_queue_limit_s);

  klaxon::sandbox::SandboxServerOptions server_options;
  server_options.threads = threads;
  const size_t colon = listen.rfind(':');
  uint32_t port = 0;
  if (colon == std::string::npos || !absl::SimpleAtoi(listen.substr(colon + 1), &port) ||
      port > 65535) {
    return Fail("TWILIO_SANDBOX_LISTEN / --listen must be host:port");
  }
  server_options.host = listen.substr(0, colon);
  server_options.port = static_cast<uint16_t>(port);

  std::vector<klaxon::sandbox::FaultRule> rules;
  for (const auto& [source, text] :
       {std::pair<std::string, std::string>{"TWILIO_SANDBOX_FAULTS", faults_json},
        std::pair<std::string, std::string>{"TWILIO_SANDBOX_FAULTS_FILE", ""}}) {
    std::string content = text;
    if (source == "TWILIO_SANDBOX_FAULTS_FILE") {
      if (faults_file.empty()) continue;
      std::ifstream file(faults_file);
      if (!file) return Fail("TWILIO_SANDBOX_FAULTS_FILE: cannot read " + faults_file);
      std::stringstream buffer;
      buffer << file.rdbuf();
      content = buffer.str();
    }
    if (content.empty()) continue;
    auto parsed = klaxon::sandbox::ParseFaultRules(content);
    if (!parsed.ok()) return Fail(source + ": " + std::string(parsed.status().message()));
    rules.insert(rules.end(), parsed->begin(), parsed->end());
  }

  // Block the stop signals before any thread starts, so only sigwait below receives them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  if (absl::Status curl = klaxon::curl::InitializeOnce(); !curl.ok()) {
    return Fail(std::string(curl.message()));
  }

  klaxon::timing::RealClock clock;
  // One connection kept per callback thread.
  klaxon::sandbox::CurlCallbackSender curl_sender(absl::Seconds(15),
                                                  static_cast<size_t>(callback_threads));
  // Declared before the sandbox, so the sandbox stops scheduling before the pool drains.
  klaxon::sandbox::ConcurrentCallbackSender sender(
      curl_sender,
      {.pool = {.threads = static_cast<size_t>(callback_threads), .max_queued = 100'000}});
  auto sandbox = klaxon::sandbox::TwilioSandbox::Create(options, clock, sender);
  if (!sandbox.ok()) return Fail(std::string(sandbox.status().message()));
  for (const klaxon::sandbox::FaultRule& rule : rules) (*sandbox)->faults().Add(rule);

  auto server = klaxon::sandbox::SandboxServer::Start(server_options, **sandbox);
  if (!server.ok()) return Fail(std::string(server.status().message()));
  Log("info", "listening",
      {{"host", server_options.host},
       {"port", (*server)->port()},
       {"accounts", options.accounts.size()},
       {"fault_rules", rules.size()}});

  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  Log("info", "stopping", {{"signal", signal_number}});
  (*server)->Shutdown();
  return 0;
}
