#include "services/audit/postgres/postgres_data_keys.h"

#include <string>
#include <utility>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace klaxon::audit {
namespace {

constexpr char kSelectPageSql[] =
    "SELECT owner, kek_version, wrapped_key FROM data_keys "
    "WHERE owner > $1 AND kek_version <> $2 ORDER BY owner LIMIT $3";

// Keys cross as hex text inside the arrays; a row is written only if it still holds the expected
// version and bytes.
constexpr char kReplaceSql[] =
    "UPDATE data_keys AS d "
    "SET kek_version = u.new_version, wrapped_key = decode(u.new_key, 'hex') "
    "FROM unnest($1::text[], $2::integer[], $3::text[], $4::integer[], $5::text[]) "
    "  AS u(owner, old_version, old_key, new_version, new_key) "
    "WHERE d.owner = u.owner AND d.kek_version = u.old_version "
    "  AND d.wrapped_key = decode(u.old_key, 'hex')";

constexpr char kCountSql[] = "SELECT kek_version, count(*) FROM data_keys GROUP BY kek_version";

// A Postgres array literal of `updates`' values picked by `element`: every element quoted, with
// '"' and '\' escaped, so any text survives (libpqxx 6 has no array parameters).
std::string ArrayLiteral(const std::vector<DataKeyUpdate>& updates,
                         absl::FunctionRef<std::string(const DataKeyUpdate&)> element) {
  std::string literal = "{";
  for (const DataKeyUpdate& update : updates) {
    if (literal.size() > 1) literal += ',';
    literal += '"';
    for (char c : element(update)) {
      if (c == '"' || c == '\\') literal += '\\';
      literal += c;
    }
    literal += '"';
  }
  literal += '}';
  return literal;
}

}  // namespace

absl::StatusOr<std::vector<StoredDataKey>> PostgresDataKeys::KeysNotUnder(
    uint32_t version, std::string_view after_owner, size_t limit) {
  std::vector<StoredDataKey> page;
  absl::Status status = db_.Transact([&](pqxx::work& txn) {
    const pqxx::result rows =
        txn.exec_params(kSelectPageSql, std::string(after_owner), static_cast<int64_t>(version),
                        static_cast<int64_t>(limit));
    page.reserve(rows.size());
    for (const pqxx::row row : rows) {
      page.push_back({.owner = row[0].as<std::string>(),
                      .wrapped = {.kek_version = row[1].as<uint32_t>(),
                                  .sealed = pqxx::binarystring(row[2]).str()}});
    }
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return page;
}

absl::StatusOr<size_t> PostgresDataKeys::ReplaceIfUnchanged(
    const std::vector<DataKeyUpdate>& updates) {
  if (updates.empty()) return 0;
  size_t written = 0;
  absl::Status status = db_.Transact([&](pqxx::work& txn) {
    const pqxx::result result = txn.exec_params(
        kReplaceSql, ArrayLiteral(updates, [](const DataKeyUpdate& u) { return u.owner; }),
        ArrayLiteral(updates,
                     [](const DataKeyUpdate& u) { return absl::StrCat(u.expected.kek_version); }),
        ArrayLiteral(
            updates,
            [](const DataKeyUpdate& u) { return absl::BytesToHexString(u.expected.sealed); }),
        ArrayLiteral(
            updates,
            [](const DataKeyUpdate& u) { return absl::StrCat(u.replacement.kek_version); }),
        ArrayLiteral(updates, [](const DataKeyUpdate& u) {
          return absl::BytesToHexString(u.replacement.sealed);
        }));
    written = static_cast<size_t>(result.affected_rows());
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return written;
}

absl::StatusOr<std::map<uint32_t, int64_t>> PostgresDataKeys::CountByVersion() {
  std::map<uint32_t, int64_t> counts;
  absl::Status status = db_.Transact([&](pqxx::work& txn) {
    for (const pqxx::row row : txn.exec(kCountSql)) {
      counts[row[0].as<uint32_t>()] = row[1].as<int64_t>();
    }
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return counts;
}

}  // namespace klaxon::audit
