//===- module_file.cpp - Checking a model.so before dlopen ----------------===//
//
// dlopen trusts the file: a module truncated anywhere makes the loader touch
// pages past the end of the file (SIGBUS), a few flipped bytes send it
// through wild pointers (SIGSEGV). So before dlopen the runtime checks the
// file against its own ELF headers (every table and loaded segment inside
// the file, sane sizes) and against the checksum dpc appended to it (abi.h,
// DPC_MODULE_TRAILER_MAGIC).
//
//===----------------------------------------------------------------------===//

#include "io/file_io.h"

#include "dpc/runtime.h"

#include <algorithm>
#include <cstring>
#include <optional>

#include <elf.h>

using namespace dpc;

namespace {

#if defined(__x86_64__)
constexpr uint16_t kHostMachine = EM_X86_64;
#elif defined(__aarch64__)
constexpr uint16_t kHostMachine = EM_AARCH64;
#else
#error "unknown host machine: add its ELF e_machine"
#endif

/// Whether [offset, offset + size) lies within `fileSize` bytes, without
/// overflowing.
bool within(uint64_t offset, uint64_t size, uint64_t fileSize) {
  return offset <= fileSize && size <= fileSize - offset;
}

/// Reads `count` entries of `T` at `offset`, after checking the extent.
template <typename T>
std::vector<T> readTable(const InputFile &file, uint64_t offset, uint64_t count,
                         uint64_t imageSize, const std::string &what,
                         const std::function<void(const std::string &)> &fail) {
  if (count > imageSize / sizeof(T) ||
      !within(offset, count * sizeof(T), imageSize))
    fail(what + " extends past the end of the file (truncated?)");
  std::vector<T> table(count);
  if (count)
    file.read(offset, table.data(), count * sizeof(T));
  return table;
}

/// Whether the ELF image exports `name` in its dynamic symbol table.
bool exportsSymbol(const InputFile &file,
                   const std::vector<Elf64_Shdr> &sections, uint64_t imageSize,
                   const char *name,
                   const std::function<void(const std::string &)> &fail) {
  for (const Elf64_Shdr &section : sections) {
    if (section.sh_type != SHT_DYNSYM || section.sh_link >= sections.size())
      continue;
    const Elf64_Shdr &strings = sections[section.sh_link];
    std::vector<char> names =
        readTable<char>(file, strings.sh_offset, strings.sh_size, imageSize,
                        "the dynamic string table", fail);
    std::vector<Elf64_Sym> symbols = readTable<Elf64_Sym>(
        file, section.sh_offset, section.sh_size / sizeof(Elf64_Sym), imageSize,
        "the dynamic symbol table", fail);
    size_t length = std::strlen(name);
    for (const Elf64_Sym &symbol : symbols)
      if (symbol.st_name < names.size() &&
          names.size() - symbol.st_name > length &&
          std::memcmp(&names[symbol.st_name], name, length + 1) == 0 &&
          symbol.st_shndx != SHN_UNDEF)
        return true;
  }
  return false;
}

} // namespace

void dpc::checkModuleFile(const std::string &path) {
  auto fail = [&](const std::string &why) {
    throw Error("cannot load " + path + ": " + why);
  };
  std::optional<InputFile> opened;
  try {
    opened.emplace(path, "");
  } catch (const Error &e) {
    // "cannot open 'm.so': No such file or directory" -> the reason.
    std::string reason = e.what();
    if (size_t colon = reason.find("': "); colon != std::string::npos)
      reason = reason.substr(colon + 3);
    fail(reason);
  }
  const InputFile &file = *opened;

  // The trailer, if any, says where the ELF image ends.
  uint64_t imageSize = file.size();
  std::optional<uint64_t> checksum;
  if (file.size() >= DPC_MODULE_TRAILER_BYTES) {
    unsigned char trailer[DPC_MODULE_TRAILER_BYTES];
    file.read(file.size() - DPC_MODULE_TRAILER_BYTES, trailer, sizeof(trailer));
    if (std::memcmp(trailer, DPC_MODULE_TRAILER_MAGIC, 8) == 0) {
      uint64_t size = 0, sum = 0;
      for (int i = 7; i >= 0; --i) {
        size = (size << 8) | trailer[8 + i];
        sum = (sum << 8) | trailer[16 + i];
      }
      if (size != file.size() - DPC_MODULE_TRAILER_BYTES)
        fail("the file is " + std::to_string(file.size()) +
             " bytes, but its trailer says " + std::to_string(size) +
             " (truncated or modified)");
      imageSize = size;
      checksum = sum;
    }
  }

  Elf64_Ehdr header;
  if (imageSize < sizeof(header))
    fail("not a shared library (too short for an ELF header)");
  file.read(0, &header, sizeof(header));
  if (std::memcmp(header.e_ident, ELFMAG, SELFMAG) != 0)
    fail("not a shared library (no ELF header)");
  if (header.e_ident[EI_CLASS] != ELFCLASS64 ||
      header.e_ident[EI_DATA] != ELFDATA2LSB ||
      header.e_ident[EI_VERSION] != EV_CURRENT ||
      header.e_version != EV_CURRENT || header.e_machine != kHostMachine)
    fail("not a shared library for this machine (ELF class, byte order, "
         "version or machine differ)");
  if (header.e_type != ET_DYN)
    fail("not a shared library (ELF type " + std::to_string(header.e_type) +
         ")");
  if (header.e_ehsize != sizeof(Elf64_Ehdr) ||
      header.e_phentsize != sizeof(Elf64_Phdr) || header.e_phnum == 0 ||
      header.e_phnum == PN_XNUM ||
      (header.e_shnum != 0 && header.e_shentsize != sizeof(Elf64_Shdr)) ||
      (header.e_shnum != 0 && header.e_shstrndx >= header.e_shnum))
    fail("corrupted ELF header");

  auto failTable = [&](const std::string &why) { fail(why); };
  std::vector<Elf64_Phdr> segments =
      readTable<Elf64_Phdr>(file, header.e_phoff, header.e_phnum, imageSize,
                            "the program header table", failTable);
  bool loadable = false, dynamic = false;
  for (size_t i = 0; i < segments.size(); ++i) {
    const Elf64_Phdr &s = segments[i];
    if (s.p_type != PT_LOAD && s.p_type != PT_DYNAMIC)
      continue;
    if (!within(s.p_offset, s.p_filesz, imageSize))
      fail("segment " + std::to_string(i) +
           " extends past the end of the file (truncated?)");
    if (s.p_filesz > s.p_memsz ||
        (s.p_align > 1 && ((s.p_align & (s.p_align - 1)) != 0 ||
                           s.p_offset % s.p_align != s.p_vaddr % s.p_align)))
      fail("segment " + std::to_string(i) + " has a corrupted header");
    loadable |= s.p_type == PT_LOAD;
    dynamic |= s.p_type == PT_DYNAMIC;
  }
  if (!loadable || !dynamic)
    fail("not a shared library (no loadable or dynamic segment)");

  // dpc's modules always have section headers (they sit at the end of the
  // image, so they also reveal a truncated file without a trailer).
  std::vector<Elf64_Shdr> sections =
      readTable<Elf64_Shdr>(file, header.e_shoff, header.e_shnum, imageSize,
                            "the section header table", failTable);
  for (size_t i = 0; i < sections.size(); ++i)
    if (sections[i].sh_type != SHT_NOBITS &&
        !within(sections[i].sh_offset, sections[i].sh_size, imageSize))
      fail("section " + std::to_string(i) +
           " extends past the end of the file (truncated?)");

  if (!checksum) {
    if (!exportsSymbol(file, sections, imageSize, DPC_MODEL_MANIFEST_SYMBOL,
                       failTable))
      throw Error(path + " is not a dpc module: it does not export " +
                  DPC_MODEL_MANIFEST_SYMBOL);
    fail("it has no checksum trailer: truncated, modified after dpc wrote "
         "it (strip, objcopy), or written by an older dpc; recompile it");
  }
  // Read in pieces: an embedded-weights module may be gigabytes.
  constexpr uint64_t kPiece = uint64_t(1) << 24;
  std::vector<unsigned char> piece(
      static_cast<size_t>(std::min<uint64_t>(kPiece, imageSize)));
  // Pieces of a multiple of 8 bytes: the same words as in one pass.
  uint64_t hash = DPC_CHECKSUM_SEED;
  for (uint64_t offset = 0; offset < imageSize; offset += kPiece) {
    uint64_t n = std::min<uint64_t>(kPiece, imageSize - offset);
    file.read(offset, piece.data(), n);
    hash = dpc_checksum_update(hash, piece.data(), n);
  }
  if (hash != *checksum)
    fail("its checksum does not match its contents: the file was corrupted "
         "or modified after dpc wrote it");
}
