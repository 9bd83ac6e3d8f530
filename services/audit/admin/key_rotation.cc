#include "services/audit/admin/key_rotation.h"

#include <algorithm>
#include <deque>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/crypto/envelope.h"

namespace klaxon::audit {
namespace {

// The versions other than `current` that still wrap keys.
std::map<uint32_t, int64_t> OtherVersions(const std::map<uint32_t, int64_t>& counts,
                                          uint32_t current) {
  std::map<uint32_t, int64_t> others = counts;
  others.erase(current);
  std::erase_if(others, [](const auto& entry) { return entry.second == 0; });
  return others;
}

// What rewrapping and writing back one page did.
struct PageResult {
  absl::Status status;
  int64_t written = 0;
  int64_t changed = 0;  // read, but changed by someone else before the write
};

PageResult RewrapAndWrite(DataKeyStore& store, crypto::KeyWrapper& keys,
                          const std::vector<StoredDataKey>& page) {
  crypto::Envelope envelope(keys);
  std::vector<DataKeyUpdate> updates;
  updates.reserve(page.size());
  for (const StoredDataKey& key : page) {
    absl::StatusOr<crypto::WrappedKey> rewrapped = envelope.Rewrap(key.wrapped, key.owner);
    if (!rewrapped.ok()) {
      return {.status = absl::Status(
                  rewrapped.status().code(),
                  absl::StrCat("the data key of ", key.owner, ": ", rewrapped.status().message()))};
    }
    updates.push_back(
        {.owner = key.owner, .expected = key.wrapped, .replacement = *std::move(rewrapped)});
  }
  absl::StatusOr<size_t> written = store.ReplaceIfUnchanged(updates);
  if (!written.ok()) return {.status = written.status()};
  return {.written = static_cast<int64_t>(*written),
          .changed = static_cast<int64_t>(updates.size() - *written)};
}

// Pages being rewrapped and written on threads of their own, oldest first.
class PagesInFlight {
 public:
  PagesInFlight(DataKeyStore& store, crypto::KeyWrapper& keys, RotationReport& report)
      : store_(store), keys_(keys), report_(report) {}
  ~PagesInFlight() { static_cast<void>(FinishAll()); }

  void Start(std::vector<StoredDataKey> page) {
    auto result = std::make_unique<PageResult>();
    std::jthread thread([this, page = std::move(page), out = result.get()] {
      *out = RewrapAndWrite(store_, keys_, page);
    });
    pages_.push_back({std::move(result), std::move(thread)});
  }

  size_t size() const { return pages_.size(); }

  // Waits for the oldest page and counts what it did.
  absl::Status FinishOldest() {
    pages_.front().thread.join();
    const PageResult result = *pages_.front().result;
    pages_.pop_front();
    return Count(result, report_);
  }

  // Waits for every page; the first failure, if any.
  absl::Status FinishAll() {
    absl::Status first = absl::OkStatus();
    while (!pages_.empty()) first.Update(FinishOldest());
    return first;
  }

  static absl::Status Count(const PageResult& result, RotationReport& report) {
    report.rewrapped += result.written;
    report.changed_concurrently += result.changed;
    return result.status;
  }

 private:
  struct Page {
    std::unique_ptr<PageResult> result;
    std::jthread thread;
  };
  DataKeyStore& store_;
  crypto::KeyWrapper& keys_;
  RotationReport& report_;
  std::deque<Page> pages_;
};

// One pass over every key not under `current`, in owner order.
absl::Status RotatePass(DataKeyStore& store, crypto::KeyWrapper& keys, uint32_t current,
                        const RotationOptions& options, RotationReport& report) {
  const size_t batch_size = std::max<size_t>(options.batch_size, 1);
  const size_t threads = std::max<size_t>(options.threads, 1);
  PagesInFlight in_flight(store, keys, report);
  std::string after;
  absl::Status status = absl::OkStatus();
  while (status.ok()) {
    absl::StatusOr<std::vector<StoredDataKey>> page =
        store.KeysNotUnder(current, after, batch_size);
    if (!page.ok()) {
      status = page.status();
      break;
    }
    if (page->empty()) break;
    after = page->back().owner;
    const bool last = page->size() < batch_size;
    if (threads == 1) {
      status = PagesInFlight::Count(RewrapAndWrite(store, keys, *page), report);
    } else {
      if (in_flight.size() == threads) status = in_flight.FinishOldest();
      if (status.ok()) in_flight.Start(*std::move(page));
    }
    if (last) break;
  }
  status.Update(in_flight.FinishAll());
  return status;
}

}  // namespace

nlohmann::json ToJson(const RotationReport& report) {
  nlohmann::json remaining = nlohmann::json::object();
  for (const auto& [version, count] : report.remaining) remaining[absl::StrCat(version)] = count;
  return {{"current_version", report.current_version},
          {"rewrapped", report.rewrapped},
          {"already_current", report.already_current},
          {"changed_concurrently", report.changed_concurrently},
          {"remaining", std::move(remaining)},
          {"passes", report.passes},
          {"seconds", absl::ToDoubleSeconds(report.elapsed)}};
}

absl::StatusOr<RotationReport> RotateDataKeys(DataKeyStore& store, crypto::KeyWrapper& keys,
                                              timing::Clock& clock,
                                              const RotationOptions& options) {
  const absl::Time started = clock.Now();
  RotationReport report{.current_version = keys.CurrentVersion()};
  const uint32_t current = report.current_version;
  auto stopped = [&](const absl::Status& status) {
    return absl::Status(status.code(),
                        absl::StrCat("rotation to key version ", current, " stopped after ",
                                     report.rewrapped, " keys were rewrapped: ", status.message()));
  };

  absl::StatusOr<std::map<uint32_t, int64_t>> counts = store.CountByVersion();
  if (!counts.ok()) return stopped(counts.status());
  if (const auto found = counts->find(current); found != counts->end()) {
    report.already_current = found->second;
  }
  report.remaining = OtherVersions(*counts, current);

  while (!report.remaining.empty() && report.passes < options.max_passes) {
    ++report.passes;
    if (absl::Status pass = RotatePass(store, keys, current, options, report); !pass.ok()) {
      return stopped(pass);
    }
    counts = store.CountByVersion();
    if (!counts.ok()) return stopped(counts.status());
    report.remaining = OtherVersions(*counts, current);
  }
  report.elapsed = clock.Now() - started;

  if (!report.remaining.empty()) {
    int64_t left = 0;
    for (const auto& [version, count] : report.remaining) left += count;
    return absl::FailedPreconditionError(absl::StrCat(
        "rotation to key version ", current, " rewrapped ", report.rewrapped, " keys in ",
        report.passes, " passes, but ", left, " keys remain under key version(s) ",
        absl::StrJoin(
            report.remaining, ", ",
            [](std::string* out, const auto& entry) { absl::StrAppend(out, entry.first); }),
        ": an audit replica may still wrap new keys under an old version; roll every replica to "
        "the keyring whose current version is ",
        current, " and run rotate again"));
  }
  return report;
}

}  // namespace klaxon::audit
