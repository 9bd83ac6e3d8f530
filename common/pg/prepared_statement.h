#pragma once
// A statement that each connection parses and plans once. Postgres keeps the parsed statement
// for the connection's life and reuses its plan (a generic one, once that costs no more than
// planning afresh), so a statement run on every batch stops paying the planner every time:
// audit's batch writes spent more time planning than running (ADR 0008).
//
// Statements are sent by name over the connection they were prepared on, so they need direct
// connections or a pooler that keeps prepared statements (PgBouncer in session mode, or 1.21+
// with max_prepared_statements).

#include <string>
#include <string_view>
#include <utility>

#include "pqxx/pqxx"

namespace klaxon::pg {

class PreparedStatement {
 public:
  // `name` must be unique among the statements a process prepares. Both are borrowed: string
  // literals, or strings that outlive the statement.
  constexpr PreparedStatement(std::string_view name, std::string_view sql)
      : name_(name), sql_(sql) {}

  // Runs the statement in `txn` with `params` as $1, $2, ...
  template <typename... Params>
  pqxx::result Exec(pqxx::transaction_base& txn, Params&&... params) const {
    // libpqxx only records the definition here, and sends it on the connection's first
    // execution; preparing the same name with the same SQL again changes nothing.
    const std::string name(name_);
    txn.conn().prepare(name, std::string(sql_));
    return txn.exec_prepared(name, std::forward<Params>(params)...);
  }

 private:
  std::string_view name_;
  std::string_view sql_;
};

}  // namespace klaxon::pg
