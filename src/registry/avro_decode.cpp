// Reading Avro's binary encoding with the writer's schema, resolved against the reader's
// struct by field name (Avro's schema resolution; rill/avro.hpp lists the rules).
#include <bit>
#include <cstring>
#include <limits>

#include "avro_codec.hpp"

namespace rill::registry::avro_detail {

using rill::detail::json::kind;

struct plan::step {
  avro_type_t w = AVRO_NULL;
  const type_info* r = nullptr;         // nullptr: read and drop
  const type_info* optional = nullptr;  // the reader's optional around r: a null resets it,
                                        // a value is read into its element
  std::string error;                    // not empty: what the writer wrote cannot be read as r
  bool fatal = false;                   // the error stands even when the value is only skipped
  std::vector<std::pair<const step*, int>> fields;  // record: reader field index or -1
  std::vector<std::string> names;                   // record: the writer's field names
  std::vector<const step*> branches;                // union
  const step* items = nullptr;                      // array, map
  std::vector<std::string> symbols;                 // enum
  std::int64_t fixed_size = 0;
};

namespace {

std::string reader_name(const type_info* r) {
  switch (r->k) {
    case kind::boolean:
      return "bool";
    case kind::int8:
      return "int8_t";
    case kind::int16:
      return "int16_t";
    case kind::int32:
      return "int32_t";
    case kind::int64:
      return "int64_t";
    case kind::uint8:
      return "uint8_t";
    case kind::uint16:
      return "uint16_t";
    case kind::uint32:
      return "uint32_t";
    case kind::uint64:
      return "uint64_t";
    case kind::float32:
      return "float";
    case kind::float64:
      return "double";
    case kind::string:
      return "std::string";
    default:
      return r->name();
  }
}

bool is_integer(kind k) {
  return k == kind::int8 || k == kind::int16 || k == kind::int32 || k == kind::int64 ||
         k == kind::uint8 || k == kind::uint16 || k == kind::uint32 || k == kind::uint64;
}

// Whether a writer's type can be read as the reader's kind.
bool resolves(avro_type_t w, kind r) {
  switch (w) {
    case AVRO_INT32:
    case AVRO_INT64:
      return is_integer(r) || r == kind::float32 || r == kind::float64;
    case AVRO_FLOAT:
      return r == kind::float32 || r == kind::float64;
    case AVRO_DOUBLE:
      return r == kind::float64;
    case AVRO_BOOLEAN:
      return r == kind::boolean;
    case AVRO_STRING:
    case AVRO_BYTES:
    case AVRO_ENUM:
    case AVRO_FIXED:
      return r == kind::string;
    case AVRO_RECORD:
      return r == kind::object;
    case AVRO_ARRAY:
      return r == kind::array || r == kind::bool_array;
    case AVRO_MAP:
      return r == kind::map;
    default:
      return false;
  }
}

struct cursor {
  const std::byte* p;
  const std::byte* end;
  int depth = 0;

  [[noreturn]] static void fail(const std::string& why) { throw serde_error(why); }
  std::int64_t read_long() {
    std::uint64_t u = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (p == end) fail("the record ends in the middle of a number");
      const auto b = static_cast<std::uint8_t>(*p++);
      u |= static_cast<std::uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) return static_cast<std::int64_t>((u >> 1) ^ (~(u & 1) + 1));
    }
    fail("a number runs over 10 bytes");
  }
  const std::byte* take(std::int64_t n) {
    if (n < 0 || n > end - p)
      fail("a length of " + std::to_string(n) + " runs past the end of the record");
    const std::byte* at = p;
    p += n;
    return at;
  }
  template <class F>
  F read_fixed() {
    using U = std::conditional_t<sizeof(F) == 4, std::uint32_t, std::uint64_t>;
    const std::byte* b = take(sizeof(F));
    U u = 0;
    for (std::size_t i = 0; i < sizeof(F); ++i) u |= static_cast<U>(b[i]) << (8 * i);
    return std::bit_cast<F>(u);
  }
};

void store_integer(kind k, void* out, std::int64_t v) {
  auto fits = [&](std::int64_t lo, std::int64_t hi) {
    if (v < lo || v > hi)
      cursor::fail("the value " + std::to_string(v) + " is out of the member's range");
  };
  switch (k) {
    case kind::int8:
      fits(INT8_MIN, INT8_MAX);
      *static_cast<std::int8_t*>(out) = static_cast<std::int8_t>(v);
      return;
    case kind::int16:
      fits(INT16_MIN, INT16_MAX);
      *static_cast<std::int16_t*>(out) = static_cast<std::int16_t>(v);
      return;
    case kind::int32:
      fits(INT32_MIN, INT32_MAX);
      *static_cast<std::int32_t*>(out) = static_cast<std::int32_t>(v);
      return;
    case kind::int64:
      *static_cast<std::int64_t*>(out) = v;
      return;
    case kind::uint8:
      fits(0, UINT8_MAX);
      *static_cast<std::uint8_t*>(out) = static_cast<std::uint8_t>(v);
      return;
    case kind::uint16:
      fits(0, UINT16_MAX);
      *static_cast<std::uint16_t*>(out) = static_cast<std::uint16_t>(v);
      return;
    case kind::uint32:
      fits(0, UINT32_MAX);
      *static_cast<std::uint32_t*>(out) = static_cast<std::uint32_t>(v);
      return;
    case kind::uint64:
      fits(0, INT64_MAX);
      *static_cast<std::uint64_t*>(out) = static_cast<std::uint64_t>(v);
      return;
    case kind::float32:
      *static_cast<float*>(out) = static_cast<float>(v);
      return;
    case kind::float64:
      *static_cast<double*>(out) = static_cast<double>(v);
      return;
    default:
      return;
  }
}

void run(const plan::step& s, cursor& c, void* out);

// Arrays and maps come in blocks: a count (negative: followed by the block's size in bytes),
// then that many items, until a count of 0.
template <class F>
void blocks(cursor& c, F&& item) {
  for (;;) {
    std::int64_t n = c.read_long();
    if (n == 0) return;
    if (n < 0) {
      if (n == std::numeric_limits<std::int64_t>::min()) cursor::fail("a block count overflows");
      n = -n;
      (void)c.read_long();  // the block's size in bytes: not needed to read it
    }
    if (n > c.end - c.p)
      cursor::fail("a block of " + std::to_string(n) + " items runs past the end of the record");
    for (std::int64_t i = 0; i < n; ++i) item();
  }
}

void run_record(const plan::step& s, cursor& c, void* out) {
  for (std::size_t i = 0; i < s.fields.size(); ++i) {
    const auto [field, index] = s.fields[i];
    void* target = out != nullptr && index >= 0 ? s.r->fields[index].get(out) : nullptr;
    try {
      run(*field, c, target);
    } catch (const serde_error& e) {
      throw serde_error("field '" + s.names[i] + "': " + e.what());
    }
  }
}

void run_scalar(const plan::step& s, cursor& c, void* out) {
  const kind k = out != nullptr ? s.r->k : kind::boolean;
  switch (s.w) {
    case AVRO_NULL:
      return;
    case AVRO_BOOLEAN: {
      const auto b = static_cast<std::uint8_t>(*c.take(1));
      if (b > 1) cursor::fail("a boolean byte is " + std::to_string(b) + ", not 0 or 1");
      if (out) *static_cast<bool*>(out) = b == 1;
      return;
    }
    case AVRO_INT32:
    case AVRO_INT64: {
      const std::int64_t v = c.read_long();
      if (s.w == AVRO_INT32 && (v < INT32_MIN || v > INT32_MAX))
        cursor::fail("an int is out of the 32-bit range");
      if (out) store_integer(k, out, v);
      return;
    }
    case AVRO_FLOAT: {
      const float f = c.read_fixed<float>();
      if (out && k == kind::float32) *static_cast<float*>(out) = f;
      if (out && k == kind::float64) *static_cast<double*>(out) = f;
      return;
    }
    case AVRO_DOUBLE: {
      const double d = c.read_fixed<double>();
      if (out) *static_cast<double*>(out) = d;
      return;
    }
    case AVRO_STRING:
    case AVRO_BYTES:
    case AVRO_FIXED: {
      const std::int64_t n = s.w == AVRO_FIXED ? s.fixed_size : c.read_long();
      const std::byte* b = c.take(n);
      if (out) static_cast<std::string*>(out)->assign(reinterpret_cast<const char*>(b), n);
      return;
    }
    case AVRO_ENUM: {
      const std::int64_t i = c.read_long();
      if (i < 0 || i >= static_cast<std::int64_t>(s.symbols.size()))
        cursor::fail("enum symbol " + std::to_string(i) + " is not in the writer's schema");
      if (out) *static_cast<std::string*>(out) = s.symbols[i];
      return;
    }
    default:
      cursor::fail("unsupported Avro type");
  }
}

void run(const plan::step& s, cursor& c, void* out) {
  if ((out != nullptr || s.fatal) && !s.error.empty()) cursor::fail(s.error);
  if (++c.depth > 256) cursor::fail("values nest deeper than 256 levels");
  if (out != nullptr && s.optional != nullptr) {
    if (s.w == AVRO_NULL) {
      s.optional->clear(out);
      --c.depth;
      return;
    }
    out = s.optional->emplace(out);
  }
  const type_info* r = s.r;
  switch (s.w) {
    case AVRO_RECORD:
      run_record(s, c, out);
      break;
    case AVRO_UNION: {
      const std::int64_t i = c.read_long();
      if (i < 0 || i >= static_cast<std::int64_t>(s.branches.size()))
        cursor::fail("union branch " + std::to_string(i) + " is not in the writer's schema");
      run(*s.branches[i], c, out);
      break;
    }
    case AVRO_ARRAY:
      if (out) r->clear(out);
      blocks(c, [&] {
        if (out == nullptr) return run(*s.items, c, nullptr);
        if (r->k == kind::bool_array) {
          bool b = false;
          run(*s.items, c, &b);
          r->push_bool(out, b);
        } else {
          run(*s.items, c, r->emplace(out));
        }
      });
      break;
    case AVRO_MAP:
      if (out) r->clear(out);
      blocks(c, [&] {
        const std::int64_t n = c.read_long();
        const std::byte* key = c.take(n);
        void* v = out ? r->emplace_key(
                            out, {reinterpret_cast<const char*>(key), static_cast<std::size_t>(n)})
                      : nullptr;
        run(*s.items, c, v);
      });
      break;
    default:
      run_scalar(s, c, out);
  }
  --c.depth;
}

}  // namespace

plan::plan(schema_ptr writer, const type_info& reader) : _writer(std::move(writer)) {
  _root = build(_writer.get(), &reader, 0);
}

plan::~plan() = default;

void plan::decode(bytes_view in, void* out) const {
  cursor c{in.data(), in.data() + in.size()};
  run(*_root, c, out);
  if (c.p != c.end)
    cursor::fail(std::to_string(c.end - c.p) + " bytes are left over after the record");
}

const plan::step* plan::build(avro_schema_t w, const type_info* r, int depth) {
  while (w != nullptr && avro_typeof(w) == AVRO_LINK) w = avro_schema_link_target(w);
  for (const auto& [key, built] : _built)
    if (key.first == w && key.second == r) return built;
  step& s = _steps.emplace_back();
  s.r = r;
  if (w == nullptr || depth > 64) {  // not read at all, not even skipped
    s.error = "the writer's schema nests more than 64 levels deep";
    s.fatal = true;
    return &s;
  }
  s.w = avro_typeof(w);
  if (s.w == AVRO_RECORD) _built.push_back({{w, r}, &s});
  const std::string writer_type = avro_schema_type_name(w);
  if (r != nullptr && r->k == kind::optional && s.w != AVRO_UNION) {
    s.optional = r;
    r = s.w == AVRO_NULL ? nullptr : r->element;
  } else if (r != nullptr && s.w == AVRO_NULL) {
    s.error = "the writer wrote a null where " + reader_name(r) + " expects a value";
  }
  if (r != nullptr && s.w != AVRO_UNION && s.w != AVRO_NULL && !resolves(s.w, r->k)) {
    s.error = "the writer's " + writer_type + " does not resolve to " + reader_name(r);
    r = nullptr;  // still planned, to skip over it
  }
  s.r = r;
  switch (s.w) {
    case AVRO_RECORD:
      for (std::size_t i = 0; i < avro_schema_record_size(w); ++i) {
        const std::string_view name = avro_schema_record_field_name(w, static_cast<int>(i));
        s.names.emplace_back(name);
        int index = -1;
        for (std::size_t j = 0; r != nullptr && j < r->field_count; ++j)
          if (r->fields[j].name == name) index = static_cast<int>(j);
        const type_info* fr = index >= 0 ? r->fields[index].type : nullptr;
        s.fields.push_back(
            {build(avro_schema_record_field_get_by_index(w, static_cast<int>(i)), fr, depth + 1),
             index});
      }
      break;
    case AVRO_UNION:
      for (std::size_t i = 0; i < avro_schema_union_size(w); ++i)
        s.branches.push_back(build(avro_schema_union_branch(w, static_cast<int>(i)), r, depth + 1));
      break;
    case AVRO_ARRAY:
      s.items = build(avro_schema_array_items(w),
                      r == nullptr               ? nullptr
                      : r->k == kind::bool_array ? &rill::detail::json::info_v<bool>
                                                 : r->element,
                      depth + 1);
      break;
    case AVRO_MAP:
      s.items = build(avro_schema_map_values(w), r ? r->element : nullptr, depth + 1);
      break;
    case AVRO_ENUM:
      for (int i = 0; i < avro_schema_enum_number_of_symbols(w); ++i)
        s.symbols.emplace_back(avro_schema_enum_get(w, i));
      break;
    case AVRO_FIXED:
      s.fixed_size = avro_schema_fixed_size(w);
      break;
    default:
      break;
  }
  return &s;
}

}  // namespace rill::registry::avro_detail
