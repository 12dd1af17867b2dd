#include "data/python_set_order.h"

#include <optional>

namespace melody {
namespace {

// CPython's set table (Objects/setobject.c, 3.11) restricted to integer keys, which is
// all the reference's instrument sets hold: open addressing with a run of linear probes
// before each perturbed jump.
class IntSetTable {
 public:
  IntSetTable() : slots_(8) {}

  void Insert(int64_t value) {
    size_t index = FindSlot(slots_, value);
    if (slots_[index]) return;  // already present
    slots_[index] = value;
    ++fill_;
    const size_t mask = slots_.size() - 1;
    if (5 * fill_ >= 3 * mask) Resize();
  }

  std::vector<int64_t> IterationOrder() const {
    std::vector<int64_t> order;
    for (const auto& slot : slots_) {
      if (slot) order.push_back(*slot);
    }
    return order;
  }

 private:
  static constexpr size_t kLinearProbes = 9;

  // hash(int) for the values that fit a machine word: the value itself, except that -1
  // is reserved as an error marker and hashes to -2. Used as an unsigned size_t.
  static size_t Hash(int64_t value) {
    return static_cast<size_t>(value == -1 ? int64_t{-2} : value);
  }

  // The slot holding `value`, or the first empty slot of its probe sequence (there are
  // no deletions, so an empty slot ends the search).
  static size_t FindSlot(const std::vector<std::optional<int64_t>>& slots, int64_t value) {
    const size_t mask = slots.size() - 1;
    size_t perturb = Hash(value);
    size_t i = perturb & mask;
    while (true) {
      if (!slots[i] || *slots[i] == value) return i;
      if (i + kLinearProbes <= mask) {
        for (size_t j = i + 1; j <= i + kLinearProbes; ++j) {
          if (!slots[j] || *slots[j] == value) return j;
        }
      }
      perturb >>= 5;
      i = (i * 5 + 1 + perturb) & mask;
    }
  }

  // New size: the smallest power of two (from 8) greater than 4 * used; the old table is
  // walked in slot order.
  void Resize() {
    size_t new_size = 8;
    while (new_size <= 4 * fill_) new_size <<= 1;
    std::vector<std::optional<int64_t>> resized(new_size);
    for (const auto& slot : slots_) {
      if (slot) resized[FindSlot(resized, *slot)] = *slot;
    }
    slots_ = std::move(resized);
  }

  std::vector<std::optional<int64_t>> slots_;
  size_t fill_ = 0;
};

}  // namespace

std::vector<int64_t> PythonSetIterationOrder(const std::vector<int64_t>& inserted) {
  IntSetTable table;
  for (int64_t value : inserted) table.Insert(value);
  return table.IterationOrder();
}

}  // namespace melody
