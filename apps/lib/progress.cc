#include "apps/lib/progress.h"

#include <cmath>
#include <cstdio>

namespace melody {

std::string FormatDuration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  const int64_t s = static_cast<int64_t>(std::llround(seconds));
  char buf[32];
  if (s < 60) {
    std::snprintf(buf, sizeof buf, "%llds", static_cast<long long>(s));
  } else if (s < 3600) {
    std::snprintf(buf, sizeof buf, "%lldm%02llds", static_cast<long long>(s / 60),
                  static_cast<long long>(s % 60));
  } else if (s < 86400) {
    std::snprintf(buf, sizeof buf, "%lldh%02lldm", static_cast<long long>(s / 3600),
                  static_cast<long long>((s % 3600) / 60));
  } else {
    std::snprintf(buf, sizeof buf, "%lldd%02lldh", static_cast<long long>(s / 86400),
                  static_cast<long long>((s % 86400) / 3600));
  }
  return buf;
}

namespace {
std::string Compact(double v) {
  char buf[32];
  if (v >= 1e6) std::snprintf(buf, sizeof buf, "%.2fM", v / 1e6);
  else if (v >= 1e4) std::snprintf(buf, sizeof buf, "%.1fk", v / 1e3);
  else if (v >= 100) std::snprintf(buf, sizeof buf, "%.0f", v);
  else std::snprintf(buf, sizeof buf, "%.3g", v);
  return buf;
}
}  // namespace

ProgressMeter::ProgressMeter(int64_t first_step, int64_t total_steps, double now_seconds)
    : first_step_(first_step), total_steps_(total_steps), window_start_(now_seconds) {}

std::string ProgressMeter::Line(int64_t global_step, double now, double input_wait_seconds) {
  const double dt = now - window_start_;
  const double rate = dt > 0 ? window_steps_ / dt : 0;
  const double wait_share = dt > 0 ? (input_wait_seconds - window_wait_start_) / dt : 0;
  std::string line = "step " + std::to_string(global_step);
  if (total_steps_ > 0) {
    const int64_t done = global_step - first_step_;
    char pct[64];
    std::snprintf(pct, sizeof pct, "/%lld (%.1f%%)",
                  static_cast<long long>(first_step_ + total_steps_),
                  100.0 * static_cast<double>(done) / static_cast<double>(total_steps_));
    line += pct;
  }
  char rates[160];
  std::snprintf(rates, sizeof rates, ", %s steps/s, %s examples/s, %s events/s, input wait %.1f%%",
                Compact(rate).c_str(), Compact(dt > 0 ? window_examples_ / dt : 0).c_str(),
                Compact(dt > 0 ? window_events_ / dt : 0).c_str(), 100.0 * wait_share);
  line += rates;
  if (total_steps_ > 0 && rate > 0) {
    const int64_t left = first_step_ + total_steps_ - global_step;
    line += ", ETA " + FormatDuration(static_cast<double>(left) / rate);
  }
  last_rate_ = rate;
  window_start_ = now;
  window_wait_start_ = input_wait_seconds;
  window_steps_ = window_examples_ = window_events_ = 0;
  return line;
}

}  // namespace melody
