// Network strings: URLs, host names and IPv4 addresses in ASCII and UTF-16LE runs, the noise
// that is left out (versions, object identifiers, file names) and the cap.
#include "catena/formats/strings.hpp"

#include <gtest/gtest.h>

#include <string>

namespace catena::formats {
namespace {

std::vector<std::string> found(const std::string& bytes, size_t max = 1000) {
  return network_strings(std::as_bytes(std::span(bytes.data(), bytes.size())), max).values;
}

std::string utf16(const std::string& ascii) {
  std::string out;
  for (char c : ascii) {
    out.push_back(c);
    out.push_back('\0');
  }
  return out;
}

TEST(NetworkStrings, UrlsHostsAndAddressesInAsciiAndUtf16) {
  const std::string bytes = std::string("\x01\x02", 2) + "GET https://Evil-Example.com/x?y=1 now" +
                            std::string(3, '\0') + "beacon to cdn.update-check.net:443" +
                            std::string(1, '\0') + utf16("connect 198.51.100.23 please") +
                            std::string("\xff\xfe", 2) + "\x7f" + utf16("wss://c2.example.ru/ws");
  EXPECT_EQ(found(bytes),
            (std::vector<std::string>{"198.51.100.23", "c2.example.ru", "cdn.update-check.net",
                                      "evil-example.com", "https://Evil-Example.com/x?y=1",
                                      "wss://c2.example.ru/ws"}));
}

TEST(NetworkStrings, VersionsObjectIdentifiersAndFileNamesAreNotEndpoints) {
  const std::string bytes = std::string("version 2.0.6.0\0", 16) + "oid 1.3.6.1.4.1.311.2.1.4\0" +
                            "2.5.29.19 basic\0" + "10.0.19041.1\0" + "libc.so.6 libfoo.py\0" +
                            "System.Net.Http config.json\0" + "short\0" + "ftp:/not-a-url";
  EXPECT_TRUE(found(std::string(bytes.data(), bytes.size())).empty())
      << found(std::string(bytes.data(), bytes.size()))[0];
}

TEST(NetworkStrings, TheCapIsSaid) {
  std::string bytes;
  for (int i = 0; i < 50; ++i) bytes += "http://host" + std::to_string(i) + ".example.com/ " + '\0';
  const auto all = network_strings(std::as_bytes(std::span(bytes.data(), bytes.size())), 1000);
  EXPECT_EQ(all.values.size(), 100u);  // each URL and its host
  EXPECT_FALSE(all.truncated);
  const auto capped = network_strings(std::as_bytes(std::span(bytes.data(), bytes.size())), 10);
  EXPECT_EQ(capped.values.size(), 10u);
  EXPECT_TRUE(capped.truncated);
}

}  // namespace
}  // namespace catena::formats
