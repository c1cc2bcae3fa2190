// Order enrichment: the read side of a shop, built from three topics with joins.
//
//   orders    (key: order id)     {id, customer, product, quantity}   a stream of placed orders
//   products  (key: product id)   {name, price}                       a global table: every
//                                                                      instance holds the catalog
//   customers (key: customer id)  {name, city}                        a table, partitioned as
//                                                                      it likes
//
// Each order is priced by its product (a stream-global table join: no repartition), kept as
// the latest line per order (a table), and joined by its customer — a foreign key — with the
// customers table. The result, one row per order that changes when the order, its product's
// price at the time, or its customer changes, goes to `enriched-orders`.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <rill/rill.hpp>

namespace enrichment {

struct order {
  std::string id;
  std::string customer;
  std::string product;
  std::int64_t quantity = 0;
};

struct product {
  std::string name;
  std::int64_t price = 0;  // cents
};

struct customer {
  std::string name;
  std::string city;
};

struct priced {
  std::string id;
  std::string customer;
  std::string product;
  std::int64_t total = 0;  // cents; -1 when the product is unknown
};

struct enriched {
  std::string id;
  std::string customer;
  std::string city;
  std::string product;
  std::int64_t total = 0;
};

}  // namespace enrichment

BOOST_HANA_ADAPT_STRUCT(enrichment::order, id, customer, product, quantity);
BOOST_HANA_ADAPT_STRUCT(enrichment::product, name, price);
BOOST_HANA_ADAPT_STRUCT(enrichment::customer, name, city);
BOOST_HANA_ADAPT_STRUCT(enrichment::priced, id, customer, product, total);
BOOST_HANA_ADAPT_STRUCT(enrichment::enriched, id, customer, city, product, total);

namespace enrichment {

inline bool operator==(const enriched& a, const enriched& b) {
  return a.id == b.id && a.customer == b.customer && a.city == b.city && a.product == b.product &&
         a.total == b.total;
}

struct topics {
  std::string prefix;
  std::string orders() const { return prefix + "orders"; }
  std::string products() const { return prefix + "products"; }
  std::string customers() const { return prefix + "customers"; }
  std::string enriched() const { return prefix + "enriched-orders"; }
};

inline rill::topology topology(const topics& t = {}) {
  rill::streams_builder b;
  auto products = b.global_table<std::string, product>(t.products());
  auto customers = b.table<std::string, customer>(t.customers());
  b.stream<std::string, order>(t.orders())
      .left_join(
          products, [](const std::string&, const order& o) { return o.product; },
          [](const order& o, const std::optional<product>& p) {
            return priced{o.id, o.customer, p ? p->name : o.product,
                          p ? o.quantity * p->price : -1};
          },
          rill::named("price"))
      .group_by_key()
      .reduce([](priced, const priced& latest) { return latest; }, rill::named("orders-priced"))
      .join(
          customers, [](const priced& p) { return p.customer; },
          [](const priced& p, const customer& c) {
            return enriched{p.id, c.name, c.city, p.product, p.total};
          },
          rill::named("by-customer"))
      .to_stream()
      .to(t.enriched());
  return b.build();
}

// A shop's data: `customers` customers, `catalog` products, `n` orders naming them.
struct data {
  std::vector<std::pair<std::string, customer>> customers;
  std::vector<std::pair<std::string, product>> products;
  std::vector<order> orders;
};

inline data generate(std::size_t n, std::size_t customers = 50, std::size_t catalog = 20) {
  data d;
  static const char* cities[] = {"Lyon", "Porto", "Gent", "Turku", "Split"};
  for (std::size_t c = 0; c < customers; ++c) {
    d.customers.push_back(
        {"c" + std::to_string(c), {"customer " + std::to_string(c), cities[c % 5]}});
  }
  for (std::size_t p = 0; p < catalog; ++p) {
    d.products.push_back(
        {"p" + std::to_string(p),
         {"product " + std::to_string(p), static_cast<std::int64_t>(100 + 37 * p)}});
  }
  for (std::size_t i = 0; i < n; ++i) {
    d.orders.push_back({"o" + std::to_string(i), "c" + std::to_string((i * 7) % customers),
                        "p" + std::to_string((i * 3) % catalog),
                        static_cast<std::int64_t>(1 + i % 4)});
  }
  return d;
}

// What every order's row must end as, computed here from the data.
inline std::map<std::string, enriched> expected(const data& d) {
  std::map<std::string, customer> cs(d.customers.begin(), d.customers.end());
  std::map<std::string, product> ps(d.products.begin(), d.products.end());
  std::map<std::string, enriched> out;
  for (const auto& o : d.orders) {
    const customer& c = cs.at(o.customer);
    const product& p = ps.at(o.product);
    out[o.id] = enriched{o.id, c.name, c.city, p.name, o.quantity * p.price};
  }
  return out;
}

// Writes the customers and the catalog, then the orders.
inline void write(const std::string& bootstrap, const std::map<std::string, std::string>& props,
                  const topics& t, const data& d) {
  rill::topic_writer<std::string, customer> cw(bootstrap, props);
  for (const auto& [id, c] : d.customers) cw.send(t.customers(), id, c);
  cw.flush();
  rill::topic_writer<std::string, product> pw(bootstrap, props);
  for (const auto& [id, p] : d.products) pw.send(t.products(), id, p);
  pw.flush();
  rill::topic_writer<std::string, order> ow(bootstrap, props);
  for (const auto& o : d.orders) ow.send(t.orders(), o.id, o);
  ow.flush();
}

// Reads `enriched-orders` until every order's latest row is what `want` says, or `timeout`
// passes; returns the latest row per order.
inline std::map<std::string, enriched> read_until(const std::string& bootstrap,
                                                  const std::map<std::string, std::string>& props,
                                                  const topics& t,
                                                  const std::map<std::string, enriched>& want,
                                                  std::chrono::milliseconds timeout) {
  rill::topic_reader<std::string, std::optional<enriched>> reader(bootstrap, t.enriched(), props);
  std::map<std::string, enriched> latest;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (latest != want && std::chrono::steady_clock::now() < deadline) {
    for (auto& r : reader.read(10000, std::chrono::milliseconds(200))) {
      if (r.value)
        latest[r.key] = *r.value;
      else
        latest.erase(r.key);
    }
  }
  return latest;
}

}  // namespace enrichment
