#include "catena/formats/format.hpp"

#include <gtest/gtest.h>

#include "support/byte_builder.hpp"

namespace catena::formats {
namespace {

using test::ByteBuilder;

ByteBuilder pe_image(uint32_t e_lfanew) {
  ByteBuilder b(512);
  b.put(0, "MZ").put_le<uint32_t>(0x3c, e_lfanew).put(e_lfanew, std::string_view("PE\0\0", 4));
  return b;
}

// [MS-CFB] header with 512-byte sectors and the directory in sector `dir_sector`.
ByteBuilder ole_file(uint32_t dir_sector, std::string_view root_clsid) {
  ByteBuilder b(512 * (dir_sector + 2));
  b.put(0, std::string_view("\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", 8));
  b.put_le<uint16_t>(0x1e, 9).put_le<uint32_t>(0x30, dir_sector);
  b.put(512 * (dir_sector + 1) + 0x50, root_clsid);
  return b;
}

constexpr std::string_view kMsiClsid(
    "\x84\x10\x0c\x00\x00\x00\x00\x00\xc0\x00\x00\x00\x00\x00\x00\x46", 16);

std::string tar_v7_header(std::string_view name) {
  ByteBuilder b(512);
  b.put(0, name).put(100, "0000644").put(156, "0");
  b.put(148, "        ");
  unsigned sum = 0;
  for (uint8_t byte : b.bytes()) sum += byte;
  char checksum[8];
  std::snprintf(checksum, sizeof checksum, "%06o", sum);
  b.put(148, std::string_view(checksum, 6)).put(154, std::string_view("\0 ", 2));
  return b.str();
}

// A UDIF trailer: "koly", version 4, header size 512.
std::string koly_trailer() {
  return ByteBuilder(512).put(0, "koly").put_be<uint32_t>(4, 4).put_be<uint32_t>(8, 512).str();
}

struct Case {
  std::string name;
  std::string bytes;
  FileFormat expected;
};

TEST(ClassifyFormat, RecognisesEachFormatFromItsBytes) {
  const std::vector<Case> cases = {
      {"empty", "", FileFormat::Empty},
      {"elf",
       "\x7f"
       "ELF\x02\x01\x01",
       FileFormat::Elf},
      {"pe", pe_image(0x80).str(), FileFormat::Pe},
      {"mz without pe", ByteBuilder(128).put(0, "MZ").put_le<uint32_t>(0x3c, 0x40).str(),
       FileFormat::Dos},
      {"mz with e_lfanew past end",
       ByteBuilder(64).put(0, "MZ").put_le<uint32_t>(0x3c, 0xffffffff).str(), FileFormat::Dos},
      {"macho 64 le", ByteBuilder().put_le<uint32_t>(0, 0xfeedfacf).str(), FileFormat::MachO},
      {"macho 32 be", ByteBuilder().put_be<uint32_t>(0, 0xfeedface).str(), FileFormat::MachO},
      {"fat macho", ByteBuilder().put_be<uint32_t>(0, 0xcafebabe).put_be<uint32_t>(4, 2).str(),
       FileFormat::MachOFat},
      {"fat64 macho", ByteBuilder().put_be<uint32_t>(0, 0xcafebabf).put_be<uint32_t>(4, 3).str(),
       FileFormat::MachOFat},
      {"java class",
       ByteBuilder().put_be<uint32_t>(0, 0xcafebabe).put_be<uint32_t>(4, 0x00000034).str(),
       FileFormat::JavaClass},
      {"msi", ole_file(1, kMsiClsid).str(), FileFormat::Msi},
      {"ole (doc)", ole_file(1, std::string(16, '\x11')).str(), FileFormat::Ole},
      {"ole with directory past head",
       ole_file(0, kMsiClsid).put_le<uint32_t>(0x30, 0x7fffffff).str(), FileFormat::Ole},
      {"zip", ByteBuilder(64).put(0, "PK\x03\x04").put_le<uint16_t>(26, 5).put(30, "a.txt").str(),
       FileFormat::Zip},
      {"jar",
       ByteBuilder(64).put(0, "PK\x03\x04").put_le<uint16_t>(26, 9).put(30, "META-INF/").str(),
       FileFormat::Jar},
      {"zip with name past end",
       ByteBuilder(31).put(0, "PK\x03\x04").put_le<uint16_t>(26, 0xffff).str(), FileFormat::Zip},
      {"empty zip", "PK\x05\x06" + std::string(18, '\0'), FileFormat::Zip},
      {"deb", "!<arch>\ndebian-binary   ", FileFormat::Deb},
      {"ar", "!<arch>\nlibfoo.o/       ", FileFormat::Ar},
      {"ustar", ByteBuilder(512).put(0, "file").put(257, "ustar").str(), FileFormat::Tar},
      {"v7 tar", tar_v7_header("file.txt"), FileFormat::Tar},
      {"gzip", "\x1f\x8b\x08\x00", FileFormat::Gzip},
      {"xz",
       std::string("\xfd"
                   "7zXZ\0",
                   6),
       FileFormat::Xz},
      {"zstd", "\x28\xb5\x2f\xfd", FileFormat::Zstd},
      {"bzip2", "BZh9", FileFormat::Bzip2},
      {"bzip2 bad level", "BZh0", FileFormat::Other},
      {"script", "#!/bin/sh\necho hi\n", FileFormat::Script},
      {"text", "hello world", FileFormat::Other},
      {"dmg", std::string(1000, '\x11') + koly_trailer(), FileFormat::Dmg},
      {"dmg whose data fork is bzip2", "BZh9" + std::string(1000, '\x11') + koly_trailer(),
       FileFormat::Dmg},
      {"koly alone is a trailer of nothing", koly_trailer(), FileFormat::Dmg},
      {"koly of another version", std::string(100, '\0') + koly_trailer().replace(7, 1, "\x05"),
       FileFormat::Other},
      // An executable with a trailer appended is still the executable: its checks must run.
      {"pe with a koly trailer", pe_image(0x80).str() + koly_trailer(), FileFormat::Pe},
      {"zip with a koly trailer", "PK\x03\x04" + std::string(600, '\0') + koly_trailer(),
       FileFormat::Zip},
      {"one byte", "\x7f", FileFormat::Other},
  };
  for (const Case& c : cases) {
    const auto bytes = std::as_bytes(std::span(c.bytes.data(), c.bytes.size()));
    EXPECT_EQ(format_name(classify_format(bytes)), format_name(c.expected)) << c.name;
  }
}

TEST(ClassifyFormat, V7TarNeedsAValidChecksum) {
  std::string header = tar_v7_header("file.txt");
  header[0] = 'g';  // the checksum no longer matches
  EXPECT_EQ(classify_format(std::as_bytes(std::span(header.data(), header.size()))),
            FileFormat::Other);
}

TEST(FormatName, RoundTripsEveryFormat) {
  for (FileFormat format :
       {FileFormat::Empty, FileFormat::Elf,      FileFormat::Pe,        FileFormat::Dos,
        FileFormat::MachO, FileFormat::MachOFat, FileFormat::JavaClass, FileFormat::Msi,
        FileFormat::Ole,   FileFormat::Zip,      FileFormat::Jar,       FileFormat::Deb,
        FileFormat::Ar,    FileFormat::Dmg,      FileFormat::Tar,       FileFormat::Gzip,
        FileFormat::Xz,    FileFormat::Zstd,     FileFormat::Bzip2,     FileFormat::Script,
        FileFormat::Other}) {
    EXPECT_EQ(parse_format_name(format_name(format)), format);
  }
  EXPECT_EQ(parse_format_name("exe"), std::nullopt);
}

}  // namespace
}  // namespace catena::formats
