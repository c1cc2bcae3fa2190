// The certificates of tests/registry/make_test_certs.sh (a CA, the registry's, a client's,
// and wrong ones), made with the openssl command line at test time in a fresh temporary
// directory, removed with the object. Define MAKE_TEST_CERTS_SCRIPT to the script's path.
#pragma once

#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <system_error>

#include "child_process.hpp"
#include "registry_server.hpp"

namespace rill::test {

// file("ca.pem") is the path of one of them.
class test_certificates {
 public:
  test_certificates() {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern = std::string(tmp && *tmp ? tmp : "/tmp") + "/rill-tls-XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr)
      throw std::runtime_error("cannot make a temporary directory from " + pattern);
    _dir = pattern;
    try {
      child_process script({MAKE_TEST_CERTS_SCRIPT, _dir.string()});
      script.finish(std::chrono::seconds(30));
    } catch (...) {
      remove();
      throw;
    }
  }
  ~test_certificates() { remove(); }
  test_certificates(const test_certificates&) = delete;
  test_certificates& operator=(const test_certificates&) = delete;

  std::string file(const std::string& name) const { return (_dir / name).string(); }
  // The test registry's options to serve HTTPS with <name>.pem and <name>.key.
  registry_options serving(const std::string& name) const {
    return {.tls_cert = file(name + ".pem"), .tls_key = file(name + ".key")};
  }

 private:
  void remove() {
    std::error_code ignored;  // a temporary directory: nothing to do if it will not go
    std::filesystem::remove_all(_dir, ignored);
  }

  std::filesystem::path _dir;
};

}  // namespace rill::test
