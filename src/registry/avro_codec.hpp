// The Avro half of rill_registry: the schema of a reflected struct, its binary encoding,
// and decoding with a writer's schema resolved against the reader's struct.
#pragma once

#include <avro.h>

#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <rill/json.hpp>

namespace rill::registry::avro_detail {

using type_info = rill::detail::json::type_info;

// The Avro schema (JSON text) of the struct `t`, with field defaults taken from
// `defaults_json` (T{} as JSON) where it has them. Sets full_name to the record's name.
std::string schema_json(const type_info& t, std::string_view defaults_json, std::string& full_name);

// Appends *v (a struct of type t) in Avro's binary encoding. Throws serde_error (a uint64
// over 2^63 - 1) without context; the caller adds it.
void encode(const type_info& t, const void* v, bytes& out);

struct schema_deleter {
  void operator()(avro_obj_t* s) const { avro_schema_decref(s); }
};
using schema_ptr = std::unique_ptr<avro_obj_t, schema_deleter>;

// Parses Avro schema text with the Avro C library; throws serde_error with its message.
schema_ptr parse_schema(std::string_view text);

// How to read what one writer schema wrote into one reader struct: a tree of steps built
// once per (writer schema, reader type) and shared by every record with that schema id.
// Immutable after construction, so threads share it.
class plan {
 public:
  plan(schema_ptr writer, const type_info& reader);
  ~plan();
  plan(const plan&) = delete;
  plan& operator=(const plan&) = delete;
  // Reads `in` (the payload after the header) into *out, a T{}; throws serde_error.
  void decode(bytes_view in, void* out) const;

  struct step;

 private:
  const step* build(avro_schema_t w, const type_info* r, int depth);
  schema_ptr _writer;
  std::deque<step> _steps;
  std::vector<std::pair<std::pair<avro_schema_t, const type_info*>, const step*>> _built;
  const step* _root = nullptr;
};

}  // namespace rill::registry::avro_detail
