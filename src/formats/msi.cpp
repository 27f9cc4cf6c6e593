#include "catena/formats/msi.hpp"

#include <algorithm>

#include "catena/core/bytes.hpp"

namespace catena::formats {
namespace {

constexpr uint16_t kTypeString = 0x0800, kTypeValid = 0x0100, kTypeNullable = 0x1000;

// A column's stored width: string references 2 or 3 bytes (binary columns 2), integers 2 or 4.
Result<size_t> column_width(uint16_t type, bool long_refs) {
  if ((type & kTypeString) != 0) {
    const bool binary = (type & ~kTypeNullable) == (kTypeString | kTypeValid);
    return binary ? 2 : (long_refs ? 3 : 2);
  }
  const unsigned size = type & 0xff;
  if (size <= 2) return 2;
  if (size == 4) return 4;
  return make_error(ErrorCode::Parse, "a column of integer size " + std::to_string(size));
}

// Little-endian values of `width` bytes at `at`; the caller has checked the bounds.
uint32_t value_at(std::span<const std::byte> data, size_t at, size_t width) {
  uint32_t value = 0;
  for (size_t i = 0; i < width; ++i) {
    value |= static_cast<uint32_t>(std::to_integer<uint8_t>(data[at + i])) << (8 * i);
  }
  return value;
}

Result<std::vector<std::byte>> stream_named(const OleFile& ole,
                                            std::span<const std::byte> file,
                                            std::string_view name) {
  const long index = find_ole_child(ole, 0, name);
  if (index < 0) {
    return make_error(ErrorCode::NotFound, "no " + std::string(name) + " stream");
  }
  return read_ole_stream(ole, file, static_cast<size_t>(index));
}

// A table stored column by column: the column `want` of every row, as raw values.
struct Column {
  uint16_t type = 0;
  size_t width = 0;
};
Result<std::vector<uint32_t>> column_values(std::span<const std::byte> table,
                                            const std::vector<Column>& columns,
                                            size_t want) {
  size_t row_width = 0;
  for (const Column& c : columns) row_width += c.width;
  if (row_width == 0 || table.size() % row_width != 0) {
    return make_error(ErrorCode::Parse, "a table's size is not a whole number of rows");
  }
  const size_t rows = table.size() / row_width;
  if (rows > kMaxMsiRows) return make_error(ErrorCode::LimitExceeded, "too many rows");
  size_t offset = 0;
  for (size_t i = 0; i < want; ++i) offset += rows * columns[i].width;
  std::vector<uint32_t> out;
  out.reserve(rows);
  for (size_t row = 0; row < rows; ++row) {
    out.push_back(value_at(table, offset + row * columns[want].width, columns[want].width));
  }
  return out;
}

}  // namespace

Result<MsiStringPool> parse_msi_string_pool(std::span<const std::byte> pool,
                                            std::span<const std::byte> data) {
  const ByteReader r(pool);
  if (pool.size() < 4 || pool.size() % 4 != 0) {
    return make_error(ErrorCode::Parse, "the string pool is not a whole number of entries");
  }
  MsiStringPool out;
  CATENA_TRY(const uint16_t flags, r.read_le<uint16_t>(2));
  out.long_refs = (flags & 0x8000) != 0;
  out.strings.emplace_back();  // id 0: the null string
  uint64_t offset = 0;
  const size_t entries = pool.size() / 4;
  for (size_t i = 1; i < entries;) {
    if (out.strings.size() >= kMaxMsiStrings) {
      return make_error(ErrorCode::LimitExceeded, "too many strings");
    }
    CATENA_TRY(const uint16_t length, r.read_le<uint16_t>(i * 4));
    CATENA_TRY(const uint16_t references, r.read_le<uint16_t>(i * 4 + 2));
    uint64_t size = length;
    if (length == 0 && references != 0) {
      // A string of 64 KiB or more: its length is the next entry, low word first.
      if (i + 1 >= entries) return make_error(ErrorCode::Parse, "a long string's length is cut");
      CATENA_TRY(const uint16_t low, r.read_le<uint16_t>((i + 1) * 4));
      CATENA_TRY(const uint16_t high, r.read_le<uint16_t>((i + 1) * 4 + 2));
      size = (uint64_t{high} << 16) | low;
      i += 2;
    } else {
      i += 1;
    }
    if (!fits_in(data.size(), offset, size)) {
      return make_error(ErrorCode::Parse, "a string runs past the string data");
    }
    out.strings.emplace_back(reinterpret_cast<const char*>(data.data() + offset),
                             static_cast<size_t>(size));
    offset += size;
  }
  return out;
}

Result<MsiFileNames> msi_file_names(const OleFile& ole, std::span<const std::byte> file) {
  CATENA_TRY(const std::vector<std::byte> pool_stream, stream_named(ole, file, "!_StringPool"));
  CATENA_TRY(const std::vector<std::byte> data_stream, stream_named(ole, file, "!_StringData"));
  CATENA_TRY(const MsiStringPool pool, parse_msi_string_pool(pool_stream, data_stream));
  const auto text = [&](uint32_t id) -> Result<std::string> {
    if (id >= pool.strings.size()) {
      return make_error(ErrorCode::Parse, "a string reference past the pool");
    }
    return pool.strings[id];
  };
  // _Columns: Table (string), Number (i2), Name (string), Type (i2); integers stored + 0x8000.
  CATENA_TRY(const std::vector<std::byte> columns_stream, stream_named(ole, file, "!_Columns"));
  const size_t ref = pool.long_refs ? 3 : 2;
  const std::vector<Column> meta = {
      {kTypeString, ref}, {0x0102, 2}, {kTypeString, ref}, {0x0102, 2}};
  CATENA_TRY(const std::vector<uint32_t> tables, column_values(columns_stream, meta, 0));
  CATENA_TRY(const std::vector<uint32_t> numbers, column_values(columns_stream, meta, 1));
  CATENA_TRY(const std::vector<uint32_t> names, column_values(columns_stream, meta, 2));
  CATENA_TRY(const std::vector<uint32_t> types, column_values(columns_stream, meta, 3));
  std::map<uint32_t, std::pair<std::string, uint16_t>> file_columns;  // number -> name, type
  for (size_t i = 0; i < tables.size(); ++i) {
    CATENA_TRY(const std::string table, text(tables[i]));
    if (table != "File") continue;
    CATENA_TRY(std::string name, text(names[i]));
    const uint32_t number = numbers[i] ^ 0x8000u;
    if (!file_columns
             .emplace(number, std::pair{std::move(name), static_cast<uint16_t>(types[i] ^ 0x8000u)})
             .second) {
      return make_error(ErrorCode::Parse, "the File table has two columns of one number");
    }
  }
  std::vector<Column> columns;
  size_t key_column = SIZE_MAX, name_column = SIZE_MAX;
  uint32_t expected = 1;
  for (const auto& [number, column] : file_columns) {
    if (number != expected++) return make_error(ErrorCode::Parse, "the File table skips a column");
    CATENA_TRY(const size_t width, column_width(column.second, pool.long_refs));
    if (column.first == "File") key_column = columns.size();
    if (column.first == "FileName") name_column = columns.size();
    columns.push_back({column.second, width});
  }
  if (key_column == SIZE_MAX || name_column == SIZE_MAX ||
      (columns[key_column].type & kTypeString) == 0 ||
      (columns[name_column].type & kTypeString) == 0) {
    return make_error(ErrorCode::Parse, "the File table lacks its File or FileName column");
  }
  CATENA_TRY(const std::vector<std::byte> table, stream_named(ole, file, "!File"));
  CATENA_TRY(const std::vector<uint32_t> keys, column_values(table, columns, key_column));
  CATENA_TRY(const std::vector<uint32_t> file_names, column_values(table, columns, name_column));
  MsiFileNames out;
  for (size_t i = 0; i < keys.size(); ++i) {
    CATENA_TRY(const std::string key, text(keys[i]));
    CATENA_TRY(const std::string name, text(file_names[i]));
    const size_t bar = name.find('|');
    out[key] = bar == std::string::npos ? name : name.substr(bar + 1);
  }
  return out;
}

}  // namespace catena::formats
