// Which JSON library should rill::json_serde use? Parses one realistic event record into a
// C++ struct and writes it back as JSON text, with each library installed from Debian:
// simdjson 3.0.1 (ondemand), RapidJSON 1.1 (Document, SAX Reader, Writer), nlohmann-json
// 3.11.2, and a hand-written writer on std::to_chars. Then the same record through
// rill::json_serde, to show what reflection costs over the hand-mapped code.
//
// Each parser starts from bytes that are not padded (Kafka's are not): the simdjson
// figure includes the copy into a reused padded buffer; `prepadded` shows it without.
// Every parser and writer is checked against the expected record once before timing.
//
// Build by hand from the repository root (see docs/serdes.md for the figures):
//   g++ -std=c++20 -O3 -DNDEBUG -Iinclude benchmarks/json_libs.cpp src/serde/json.cpp
//       -lbenchmark -lsimdjson -lpthread -o /tmp/json_libs
#include <benchmark/benchmark.h>

#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <rapidjson/document.h>
#include <rapidjson/reader.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <simdjson.h>
#include <boost/hana/adapt_struct.hpp>
#include <nlohmann/json.hpp>

#include <rill/json.hpp>

namespace bench {

struct address {
  std::string street;
  std::string city;
  std::string zip;
  std::string country;
  bool operator==(const address&) const = default;
};

struct line_item {
  std::string sku;
  int qty = 0;
  double price = 0;
  bool operator==(const line_item&) const = default;
};

struct order {
  std::string id;
  std::string customer;
  double amount = 0;
  std::string currency;
  address shipping;
  std::vector<line_item> items;
  std::optional<std::string> coupon;
  std::map<std::string, std::string> tags;
  bool gift = false;
  bool operator==(const order&) const = default;
};

}  // namespace bench

BOOST_HANA_ADAPT_STRUCT(bench::address, street, city, zip, country);
BOOST_HANA_ADAPT_STRUCT(bench::line_item, sku, qty, price);
BOOST_HANA_ADAPT_STRUCT(bench::order, id, customer, amount, currency, shipping, items, coupon, tags,
                        gift);

namespace bench {

using nl = nlohmann::json;

// ---- nlohmann ----------------------------------------------------------------------------

void from_json(const nl& j, address& a) {
  j.at("street").get_to(a.street);
  j.at("city").get_to(a.city);
  j.at("zip").get_to(a.zip);
  j.at("country").get_to(a.country);
}
void from_json(const nl& j, line_item& it) {
  j.at("sku").get_to(it.sku);
  j.at("qty").get_to(it.qty);
  j.at("price").get_to(it.price);
}
void from_json(const nl& j, order& o) {
  j.at("id").get_to(o.id);
  j.at("customer").get_to(o.customer);
  j.at("amount").get_to(o.amount);
  j.at("currency").get_to(o.currency);
  j.at("shipping").get_to(o.shipping);
  j.at("items").get_to(o.items);
  if (auto c = j.find("coupon"); c != j.end() && !c->is_null()) o.coupon = c->get<std::string>();
  j.at("tags").get_to(o.tags);
  j.at("gift").get_to(o.gift);
}
void to_json(nl& j, const address& a) {
  j = nl{{"street", a.street}, {"city", a.city}, {"zip", a.zip}, {"country", a.country}};
}
void to_json(nl& j, const line_item& it) {
  j = nl{{"sku", it.sku}, {"qty", it.qty}, {"price", it.price}};
}
void to_json(nl& j, const order& o) {
  j = nl{{"id", o.id},
         {"customer", o.customer},
         {"amount", o.amount},
         {"currency", o.currency},
         {"shipping", o.shipping},
         {"items", o.items},
         {"coupon", o.coupon ? nl(*o.coupon) : nl(nullptr)},
         {"tags", o.tags},
         {"gift", o.gift}};
}

namespace {

// 382 bytes.
constexpr std::string_view k_record =
    R"({"id":"ord-2024-000123456","customer":"cust-00042","amount":292.73,"currency":"EUR",)"
    R"("shipping":{"street":"221B Baker Street","city":"London","zip":"NW1 6XE","country":"GB"},)"
    R"("items":[{"sku":"SKU-1001","qty":2,"price":19.99},{"sku":"SKU-2002","qty":1,"price":233.0},)"
    R"({"sku":"SKU-3003","qty":5,"price":3.95}],"coupon":"SPRING10",)"
    R"("tags":{"channel":"web","region":"eu-west"},"gift":false})";

order expected_order() {
  return {"ord-2024-000123456",
          "cust-00042",
          292.73,
          "EUR",
          {"221B Baker Street", "London", "NW1 6XE", "GB"},
          {{"SKU-1001", 2, 19.99}, {"SKU-2002", 1, 233.0}, {"SKU-3003", 5, 3.95}},
          "SPRING10",
          {{"channel", "web"}, {"region", "eu-west"}},
          false};
}

// The record as a consumer hands it over: unpadded bytes in their own allocation.
struct input {
  std::unique_ptr<char[]> data;
  std::size_t size;
  input() : data(new char[k_record.size()]), size(k_record.size()) {
    std::memcpy(data.get(), k_record.data(), size);
  }
  std::string_view view() const { return {data.get(), size}; }
};

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "json_libs: %s\n", what);
  std::abort();
}

// ---- simdjson ondemand -------------------------------------------------------------------

namespace sj = simdjson::ondemand;

#define SJ_TRY(expr)                 \
  do {                               \
    if (auto _e = (expr)) return _e; \
  } while (0)

simdjson::error_code sj_string(sj::value v, std::string& out) {
  std::string_view s;
  SJ_TRY(v.get_string().get(s));
  out.assign(s);
  return simdjson::SUCCESS;
}

simdjson::error_code sj_read(sj::value v, address& a) {
  sj::object obj;
  SJ_TRY(v.get_object().get(obj));
  for (auto f : obj) {
    std::string_view key;
    SJ_TRY(f.unescaped_key().get(key));
    sj::value fv = f.value();
    if (key == "street")
      SJ_TRY(sj_string(fv, a.street));
    else if (key == "city")
      SJ_TRY(sj_string(fv, a.city));
    else if (key == "zip")
      SJ_TRY(sj_string(fv, a.zip));
    else if (key == "country")
      SJ_TRY(sj_string(fv, a.country));
  }
  return simdjson::SUCCESS;
}

simdjson::error_code sj_read(sj::value v, line_item& it) {
  sj::object obj;
  SJ_TRY(v.get_object().get(obj));
  for (auto f : obj) {
    std::string_view key;
    SJ_TRY(f.unescaped_key().get(key));
    sj::value fv = f.value();
    if (key == "sku") {
      SJ_TRY(sj_string(fv, it.sku));
    } else if (key == "qty") {
      int64_t q;
      SJ_TRY(fv.get_int64().get(q));
      it.qty = static_cast<int>(q);
    } else if (key == "price") {
      SJ_TRY(fv.get_double().get(it.price));
    }
  }
  return simdjson::SUCCESS;
}

simdjson::error_code sj_read(sj::document& doc, order& o) {
  sj::object obj;
  SJ_TRY(doc.get_object().get(obj));
  for (auto f : obj) {
    std::string_view key;
    SJ_TRY(f.unescaped_key().get(key));
    sj::value fv = f.value();
    if (key == "id") {
      SJ_TRY(sj_string(fv, o.id));
    } else if (key == "customer") {
      SJ_TRY(sj_string(fv, o.customer));
    } else if (key == "amount") {
      SJ_TRY(fv.get_double().get(o.amount));
    } else if (key == "currency") {
      SJ_TRY(sj_string(fv, o.currency));
    } else if (key == "shipping") {
      SJ_TRY(sj_read(fv, o.shipping));
    } else if (key == "items") {
      sj::array arr;
      SJ_TRY(fv.get_array().get(arr));
      o.items.clear();
      for (auto e : arr) {
        sj::value ev;
        SJ_TRY(e.get(ev));
        SJ_TRY(sj_read(ev, o.items.emplace_back()));
      }
    } else if (key == "coupon") {
      bool null = false;
      SJ_TRY(fv.is_null().get(null));
      if (null)
        o.coupon.reset();
      else
        SJ_TRY(sj_string(fv, o.coupon.emplace()));
    } else if (key == "tags") {
      sj::object t;
      SJ_TRY(fv.get_object().get(t));
      o.tags.clear();
      for (auto tf : t) {
        std::string_view k, val;
        SJ_TRY(tf.unescaped_key().get(k));
        SJ_TRY(tf.value().get_string().get(val));
        o.tags.emplace(k, val);
      }
    } else if (key == "gift") {
      SJ_TRY(fv.get_bool().get(o.gift));
    }
  }
  // At the end of the input, current_location() reports OUT_OF_BOUNDS.
  return doc.current_location().error() == simdjson::OUT_OF_BOUNDS ? simdjson::SUCCESS
                                                                   : simdjson::TRAILING_CONTENT;
}

// A reused buffer with simdjson's padding behind the data, as a serde would keep per thread.
struct padded_buffer {
  std::unique_ptr<char[]> data;
  std::size_t capacity = 0;
  std::string_view assign(std::string_view in) {
    if (capacity < in.size() + simdjson::SIMDJSON_PADDING) {
      capacity = in.size() + simdjson::SIMDJSON_PADDING + 1024;
      data.reset(new char[capacity]);
    }
    std::memcpy(data.get(), in.data(), in.size());
    std::memset(data.get() + in.size(), 0, simdjson::SIMDJSON_PADDING);
    return {data.get(), in.size()};
  }
};

order parse_simdjson(sj::parser& parser, padded_buffer& buf, std::string_view in) {
  std::string_view padded = buf.assign(in);
  order o;
  sj::document doc;
  if (parser.iterate(padded, buf.capacity).get(doc) || sj_read(doc, o)) fail("simdjson parse");
  return o;
}

order parse_simdjson_prepadded(sj::parser& parser, const simdjson::padded_string& in) {
  order o;
  sj::document doc;
  if (parser.iterate(in).get(doc) || sj_read(doc, o)) fail("simdjson parse");
  return o;
}

// ---- RapidJSON Document ------------------------------------------------------------------

namespace rj = rapidjson;

void rj_string(const rj::Value& v, std::string& out) {
  if (!v.IsString()) fail("rapidjson type");
  out.assign(v.GetString(), v.GetStringLength());
}
double rj_double(const rj::Value& v) {
  if (!v.IsNumber()) fail("rapidjson type");
  return v.GetDouble();
}

void rj_read(const rj::Value& v, address& a) {
  if (!v.IsObject()) fail("rapidjson type");
  for (auto& m : v.GetObject()) {
    std::string_view key(m.name.GetString(), m.name.GetStringLength());
    if (key == "street")
      rj_string(m.value, a.street);
    else if (key == "city")
      rj_string(m.value, a.city);
    else if (key == "zip")
      rj_string(m.value, a.zip);
    else if (key == "country")
      rj_string(m.value, a.country);
  }
}

void rj_read(const rj::Value& v, line_item& it) {
  if (!v.IsObject()) fail("rapidjson type");
  for (auto& m : v.GetObject()) {
    std::string_view key(m.name.GetString(), m.name.GetStringLength());
    if (key == "sku") {
      rj_string(m.value, it.sku);
    } else if (key == "qty") {
      if (!m.value.IsInt()) fail("rapidjson type");
      it.qty = m.value.GetInt();
    } else if (key == "price") {
      it.price = rj_double(m.value);
    }
  }
}

void rj_read(const rj::Value& v, order& o) {
  if (!v.IsObject()) fail("rapidjson type");
  for (auto& m : v.GetObject()) {
    std::string_view key(m.name.GetString(), m.name.GetStringLength());
    if (key == "id") {
      rj_string(m.value, o.id);
    } else if (key == "customer") {
      rj_string(m.value, o.customer);
    } else if (key == "amount") {
      o.amount = rj_double(m.value);
    } else if (key == "currency") {
      rj_string(m.value, o.currency);
    } else if (key == "shipping") {
      rj_read(m.value, o.shipping);
    } else if (key == "items") {
      if (!m.value.IsArray()) fail("rapidjson type");
      o.items.clear();
      for (auto& e : m.value.GetArray()) rj_read(e, o.items.emplace_back());
    } else if (key == "coupon") {
      if (m.value.IsNull())
        o.coupon.reset();
      else
        rj_string(m.value, o.coupon.emplace());
    } else if (key == "tags") {
      if (!m.value.IsObject()) fail("rapidjson type");
      o.tags.clear();
      for (auto& t : m.value.GetObject()) {
        if (!t.value.IsString()) fail("rapidjson type");
        o.tags.emplace(std::string(t.name.GetString(), t.name.GetStringLength()),
                       std::string(t.value.GetString(), t.value.GetStringLength()));
      }
    } else if (key == "gift") {
      if (!m.value.IsBool()) fail("rapidjson type");
      o.gift = m.value.GetBool();
    }
  }
}

// Reuses the allocator's memory between records, as a serde would.
struct rj_document_parser {
  rj::MemoryPoolAllocator<> value_alloc{64 * 1024};
  rj::MemoryPoolAllocator<> stack_alloc{16 * 1024};

  template <unsigned Flags>
  order parse(std::string_view in) {
    value_alloc.Clear();
    stack_alloc.Clear();
    rj::GenericDocument<rj::UTF8<>, rj::MemoryPoolAllocator<>, rj::MemoryPoolAllocator<>> doc(
        &value_alloc, 1024, &stack_alloc);
    doc.Parse<Flags>(in.data(), in.size());
    if (doc.HasParseError()) fail("rapidjson parse");
    order o;
    rj_read(doc, o);
    return o;
  }
};

// ---- RapidJSON SAX Reader ----------------------------------------------------------------

// A hand-written state machine: what the SAX API asks of a caller that maps into structs.
struct order_handler : rj::BaseReaderHandler<rj::UTF8<>, order_handler> {
  enum class frame : unsigned char { root, shipping, items, item, tags, unknown };
  enum class field : unsigned char {
    none,
    id,
    customer,
    amount,
    currency,
    shipping,
    items,
    coupon,
    tags,
    gift,
    street,
    city,
    zip,
    country,
    sku,
    qty,
    price,
    tag
  };
  order* o;
  frame stack[64];
  int depth = -1;
  field key = field::none;
  std::string tag_key;

  explicit order_handler(order* out) : o(out) {}
  frame top() const { return depth >= 0 ? stack[depth] : frame::unknown; }
  bool push(frame f) {
    if (depth + 1 >= 64) return false;
    stack[++depth] = f;
    return true;
  }

  bool Key(const char* s, rj::SizeType n, bool) {
    std::string_view k(s, n);
    key = field::none;
    switch (top()) {
      case frame::root:
        if (k == "id")
          key = field::id;
        else if (k == "customer")
          key = field::customer;
        else if (k == "amount")
          key = field::amount;
        else if (k == "currency")
          key = field::currency;
        else if (k == "shipping")
          key = field::shipping;
        else if (k == "items")
          key = field::items;
        else if (k == "coupon")
          key = field::coupon;
        else if (k == "tags")
          key = field::tags;
        else if (k == "gift")
          key = field::gift;
        break;
      case frame::shipping:
        if (k == "street")
          key = field::street;
        else if (k == "city")
          key = field::city;
        else if (k == "zip")
          key = field::zip;
        else if (k == "country")
          key = field::country;
        break;
      case frame::item:
        if (k == "sku")
          key = field::sku;
        else if (k == "qty")
          key = field::qty;
        else if (k == "price")
          key = field::price;
        break;
      case frame::tags:
        tag_key.assign(k);
        key = field::tag;
        break;
      default:
        break;
    }
    return true;
  }
  bool String(const char* s, rj::SizeType n, bool) {
    std::string_view v(s, n);
    switch (key) {
      case field::id:
        o->id.assign(v);
        break;
      case field::customer:
        o->customer.assign(v);
        break;
      case field::currency:
        o->currency.assign(v);
        break;
      case field::coupon:
        o->coupon.emplace(v);
        break;
      case field::street:
        o->shipping.street.assign(v);
        break;
      case field::city:
        o->shipping.city.assign(v);
        break;
      case field::zip:
        o->shipping.zip.assign(v);
        break;
      case field::country:
        o->shipping.country.assign(v);
        break;
      case field::sku:
        o->items.back().sku.assign(v);
        break;
      case field::tag:
        o->tags.insert_or_assign(tag_key, std::string(v));
        break;
      case field::none:
        break;
      default:
        return false;
    }
    return true;
  }
  bool number(double d, bool integral, int64_t i) {
    switch (key) {
      case field::amount:
        o->amount = d;
        break;
      case field::price:
        o->items.back().price = d;
        break;
      case field::qty:
        if (!integral) return false;
        o->items.back().qty = static_cast<int>(i);
        break;
      case field::none:
        break;
      default:
        return false;
    }
    return true;
  }
  bool Int(int i) { return number(i, true, i); }
  bool Uint(unsigned u) { return number(u, true, u); }
  bool Int64(int64_t i) { return number(static_cast<double>(i), true, i); }
  bool Uint64(uint64_t u) { return number(static_cast<double>(u), false, 0); }
  bool Double(double d) { return number(d, false, 0); }
  bool Bool(bool b) {
    if (key == field::gift)
      o->gift = b;
    else if (key != field::none)
      return false;
    return true;
  }
  bool Null() {
    if (key == field::coupon)
      o->coupon.reset();
    else if (key != field::none)
      return false;
    return true;
  }
  bool StartObject() {
    frame f = frame::unknown;
    if (depth < 0)
      f = frame::root;
    else if (top() == frame::items)
      f = (o->items.emplace_back(), frame::item);
    else if (key == field::shipping)
      f = frame::shipping;
    else if (key == field::tags)
      f = (o->tags.clear(), frame::tags);
    else if (key != field::none)
      return false;
    key = field::none;
    return push(f);
  }
  bool EndObject(rj::SizeType) {
    --depth;
    key = field::none;
    return true;
  }
  bool StartArray() {
    frame f = frame::unknown;
    if (key == field::items)
      f = (o->items.clear(), frame::items);
    else if (key != field::none)
      return false;
    key = field::none;
    return push(f);
  }
  bool EndArray(rj::SizeType) {
    --depth;
    key = field::none;
    return true;
  }
};

template <unsigned Flags>
order parse_rapidjson_sax(rj::Reader& reader, std::string_view in) {
  order o;
  order_handler h(&o);
  rj::MemoryStream ms(in.data(), in.size());
  if (reader.Parse<Flags>(ms, h).IsError()) fail("rapidjson SAX parse");
  return o;
}

order parse_nlohmann(std::string_view in) {
  return nl::parse(in).get<order>();
}

// ---- writers -----------------------------------------------------------------------------

// RapidJSON Writer into a reused StringBuffer, then appended to the output bytes.
template <class W>
void rj_write(W& w, const line_item& it) {
  w.StartObject();
  w.Key("sku", 3);
  w.String(it.sku.data(), static_cast<rj::SizeType>(it.sku.size()));
  w.Key("qty", 3);
  w.Int(it.qty);
  w.Key("price", 5);
  w.Double(it.price);
  w.EndObject();
}

template <class W>
void rj_str(W& w, const std::string& s) {
  w.String(s.data(), static_cast<rj::SizeType>(s.size()));
}

template <class W>
void rj_write(W& w, const order& o) {
  w.StartObject();
  w.Key("id", 2);
  rj_str(w, o.id);
  w.Key("customer", 8);
  rj_str(w, o.customer);
  w.Key("amount", 6);
  w.Double(o.amount);
  w.Key("currency", 8);
  rj_str(w, o.currency);
  w.Key("shipping", 8);
  w.StartObject();
  w.Key("street", 6);
  rj_str(w, o.shipping.street);
  w.Key("city", 4);
  rj_str(w, o.shipping.city);
  w.Key("zip", 3);
  rj_str(w, o.shipping.zip);
  w.Key("country", 7);
  rj_str(w, o.shipping.country);
  w.EndObject();
  w.Key("items", 5);
  w.StartArray();
  for (auto& it : o.items) rj_write(w, it);
  w.EndArray();
  w.Key("coupon", 6);
  if (o.coupon)
    rj_str(w, *o.coupon);
  else
    w.Null();
  w.Key("tags", 4);
  w.StartObject();
  for (auto& [k, v] : o.tags) {
    w.Key(k.data(), static_cast<rj::SizeType>(k.size()));
    rj_str(w, v);
  }
  w.EndObject();
  w.Key("gift", 4);
  w.Bool(o.gift);
  w.EndObject();
}

void write_rapidjson(rj::StringBuffer& sb, rj::Writer<rj::StringBuffer>& w, const order& o,
                     rill::bytes& out) {
  sb.Clear();
  w.Reset(sb);
  rj_write(w, o);
  out.clear();
  rill::append(out, std::string_view(sb.GetString(), sb.GetSize()));
}

void write_nlohmann(const order& o, rill::bytes& out) {
  std::string s = nl(o).dump();
  out.clear();
  rill::append(out, s);
}

// Hand-written: std::to_chars for numbers, a byte loop for string escapes, into a reused
// growable buffer.
struct text_writer {
  std::string buf;
  void raw(std::string_view s) { buf.append(s); }
  void str(std::string_view s) {
    buf.push_back('"');
    std::size_t run = 0;
    for (std::size_t i = 0; i < s.size(); ++i) {
      auto c = static_cast<unsigned char>(s[i]);
      if (c >= 0x20 && c != '"' && c != '\\') continue;
      buf.append(s.data() + run, i - run);
      run = i + 1;
      switch (c) {
        case '"':
          buf.append("\\\"");
          break;
        case '\\':
          buf.append("\\\\");
          break;
        case '\n':
          buf.append("\\n");
          break;
        case '\t':
          buf.append("\\t");
          break;
        case '\r':
          buf.append("\\r");
          break;
        default: {
          char esc[7] = {
              '\\', 'u', '0', '0', "0123456789abcdef"[c >> 4], "0123456789abcdef"[c & 15], 0};
          buf.append(esc, 6);
        }
      }
    }
    buf.append(s.data() + run, s.size() - run);
    buf.push_back('"');
  }
  template <class N>
  void num(N v) {
    char tmp[32];
    auto r = std::to_chars(tmp, tmp + sizeof tmp, v);
    buf.append(tmp, r.ptr);
  }
};

void write_to_chars(text_writer& w, const order& o, rill::bytes& out) {
  w.buf.clear();
  w.raw(R"({"id":)");
  w.str(o.id);
  w.raw(R"(,"customer":)");
  w.str(o.customer);
  w.raw(R"(,"amount":)");
  w.num(o.amount);
  w.raw(R"(,"currency":)");
  w.str(o.currency);
  w.raw(R"(,"shipping":{"street":)");
  w.str(o.shipping.street);
  w.raw(R"(,"city":)");
  w.str(o.shipping.city);
  w.raw(R"(,"zip":)");
  w.str(o.shipping.zip);
  w.raw(R"(,"country":)");
  w.str(o.shipping.country);
  w.raw(R"(},"items":[)");
  bool first = true;
  for (auto& it : o.items) {
    w.raw(first ? R"({"sku":)" : R"(,{"sku":)");
    first = false;
    w.str(it.sku);
    w.raw(R"(,"qty":)");
    w.num(it.qty);
    w.raw(R"(,"price":)");
    w.num(it.price);
    w.raw("}");
  }
  w.raw(R"(],"coupon":)");
  if (o.coupon)
    w.str(*o.coupon);
  else
    w.raw("null");
  w.raw(R"(,"tags":{)");
  first = true;
  for (auto& [k, v] : o.tags) {
    if (!first) w.raw(",");
    first = false;
    w.str(k);
    w.raw(":");
    w.str(v);
  }
  w.raw(R"(},"gift":)");
  w.raw(o.gift ? "true" : "false");
  w.raw("}");
  out.clear();
  rill::append(out, w.buf);
}

// ---- checks ------------------------------------------------------------------------------

void check(const order& o, const char* who) {
  if (!(o == expected_order())) fail(who);
}

// Reads written bytes back with nlohmann, so every writer is checked against one reader.
void check_written(const rill::bytes& out, const char* who) {
  if (!(parse_nlohmann(rill::as_chars(out)) == expected_order())) fail(who);
}

constexpr unsigned k_rj_exact = rj::kParseFullPrecisionFlag;
constexpr rill::serde_context k_ctx{"orders", false, nullptr};

// ---- benchmarks --------------------------------------------------------------------------

void set_rate(benchmark::State& state) {
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(k_record.size()));
}

// The floor under every parser: building the struct (its strings, vector and map nodes).
void copy_struct(benchmark::State& state) {
  const order o = expected_order();
  for (auto _ : state) {
    order copy = o;
    benchmark::DoNotOptimize(copy);
  }
  set_rate(state);
}
BENCHMARK(copy_struct);

void parse_simdjson_ondemand(benchmark::State& state) {
  input in;
  sj::parser parser;
  padded_buffer buf;
  check(parse_simdjson(parser, buf, in.view()), "simdjson");
  for (auto _ : state) benchmark::DoNotOptimize(parse_simdjson(parser, buf, in.view()));
  set_rate(state);
}
BENCHMARK(parse_simdjson_ondemand);

void parse_simdjson_ondemand_prepadded(benchmark::State& state) {
  simdjson::padded_string in(k_record);
  sj::parser parser;
  check(parse_simdjson_prepadded(parser, in), "simdjson prepadded");
  for (auto _ : state) benchmark::DoNotOptimize(parse_simdjson_prepadded(parser, in));
  set_rate(state);
}
BENCHMARK(parse_simdjson_ondemand_prepadded);

void parse_rapidjson_document(benchmark::State& state) {
  input in;
  rj_document_parser p;
  check(p.parse<k_rj_exact>(in.view()), "rapidjson document");
  for (auto _ : state) benchmark::DoNotOptimize(p.parse<k_rj_exact>(in.view()));
  set_rate(state);
}
BENCHMARK(parse_rapidjson_document);

void parse_rapidjson_document_fast_doubles(benchmark::State& state) {
  input in;
  rj_document_parser p;
  check(p.parse<rj::kParseDefaultFlags>(in.view()), "rapidjson document");
  for (auto _ : state) benchmark::DoNotOptimize(p.parse<rj::kParseDefaultFlags>(in.view()));
  set_rate(state);
}
BENCHMARK(parse_rapidjson_document_fast_doubles);

void parse_rapidjson_sax(benchmark::State& state) {
  input in;
  rj::Reader reader;
  check(parse_rapidjson_sax<k_rj_exact>(reader, in.view()), "rapidjson SAX");
  for (auto _ : state) benchmark::DoNotOptimize(parse_rapidjson_sax<k_rj_exact>(reader, in.view()));
  set_rate(state);
}
BENCHMARK(parse_rapidjson_sax);

void parse_nlohmann_json(benchmark::State& state) {
  input in;
  check(parse_nlohmann(in.view()), "nlohmann");
  for (auto _ : state) benchmark::DoNotOptimize(parse_nlohmann(in.view()));
  set_rate(state);
}
BENCHMARK(parse_nlohmann_json);

void parse_rill_json_serde(benchmark::State& state) {
  input in;
  rill::json_serde<order> serde;
  rill::bytes_view b = rill::as_bytes(in.view());
  check(serde.deserialize(b, k_ctx), "rill::json_serde");
  for (auto _ : state) benchmark::DoNotOptimize(serde.deserialize(b, k_ctx));
  set_rate(state);
}
BENCHMARK(parse_rill_json_serde);

void write_rapidjson_writer(benchmark::State& state) {
  order o = expected_order();
  rj::StringBuffer sb;
  rj::Writer<rj::StringBuffer> w(sb);
  rill::bytes out;
  write_rapidjson(sb, w, o, out);
  check_written(out, "rapidjson writer");
  for (auto _ : state) {
    write_rapidjson(sb, w, o, out);
    benchmark::DoNotOptimize(out.data());
  }
  set_rate(state);
}
BENCHMARK(write_rapidjson_writer);

void write_nlohmann_dump(benchmark::State& state) {
  order o = expected_order();
  rill::bytes out;
  write_nlohmann(o, out);
  check_written(out, "nlohmann dump");
  for (auto _ : state) {
    write_nlohmann(o, out);
    benchmark::DoNotOptimize(out.data());
  }
  set_rate(state);
}
BENCHMARK(write_nlohmann_dump);

void write_std_to_chars(benchmark::State& state) {
  order o = expected_order();
  text_writer w;
  rill::bytes out;
  write_to_chars(w, o, out);
  check_written(out, "to_chars writer");
  for (auto _ : state) {
    write_to_chars(w, o, out);
    benchmark::DoNotOptimize(out.data());
  }
  set_rate(state);
}
BENCHMARK(write_std_to_chars);

void write_rill_json_serde(benchmark::State& state) {
  order o = expected_order();
  rill::json_serde<order> serde;
  rill::bytes out;
  serde.serialize(o, out, k_ctx);
  check_written(out, "rill::json_serde");
  for (auto _ : state) {
    out.clear();
    serde.serialize(o, out, k_ctx);
    benchmark::DoNotOptimize(out.data());
  }
  set_rate(state);
}
BENCHMARK(write_rill_json_serde);

}  // namespace
}  // namespace bench

BENCHMARK_MAIN();
