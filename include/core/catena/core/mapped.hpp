#pragma once
/// Reading a file through a read-only mapping without dying when it shrinks underneath.
///
///   MapResult r = with_mapping(fd, size, [&](std::span<const std::byte> bytes) {
///     digests.update(bytes);
///   });
///   if (r == MapResult::Changed) { /* truncated while mapped: read it again with read(2) */ }
///
/// A mapped file that is truncated raises SIGBUS on access. with_mapping installs (once per
/// process) a handler that jumps back to the thread that was reading, so the caller learns the
/// file changed instead of the process ending. Whatever `use` had done is abandoned mid-way:
/// the caller must reset any state `use` touched. So `use` must be a loop that owns nothing
/// (a digest update, never a parser or a library that allocates or locks): the scan's analysers
/// read a private copy, or with_stable_mapping() for a file larger than the copies' budget.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>

namespace catena {

enum class MapResult { Done, Changed, Unavailable };

/// Maps `size` bytes of `fd` and calls `use` once with all of them. Unavailable when the file
/// cannot be mapped (the caller reads it instead). Pages are brought in as touched: to go
/// through all of them, use for_each_window().
MapResult with_mapping(int fd,
                       uint64_t size,
                       const std::function<void(std::span<const std::byte>)>& use);

/// Maps `size` bytes of `fd` for code that must never be jumped out of (parsers, OpenSSL,
/// libyara): a page that faults because the file shrank is replaced, with the rest of the
/// mapping, by zero pages, and the read goes on. Changed when that happened: the caller throws
/// away what `use` computed. The bytes can still change under `use` if the file is written
/// while it runs (a mapping is no snapshot); callers compare fstat before and after.
MapResult with_stable_mapping(int fd,
                              uint64_t size,
                              const std::function<void(std::span<const std::byte>)>& use);

/// Calls `consume` with successive windows of a mapping, each brought in with one call and
/// released from this process after it, so that a file of any size costs one window of
/// resident memory (its pages stay in the page cache). Only for a mapping of a file.
void for_each_window(std::span<const std::byte> bytes,
                     size_t window,
                     const std::function<void(std::span<const std::byte>)>& consume);

}  // namespace catena
