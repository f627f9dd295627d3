// The statistics that decide a knob: repeated measurements of two settings, Welch's t
// interval on the difference of their mean log-busbw (a ratio, so that +5 % means the same
// at 1 GB/s and at 100 GB/s), and the rule that changes a default only on evidence.
#pragma once

#include <cstddef>
#include <span>

namespace sxcoll::tune {

struct Summary {
  size_t n = 0;
  double mean = 0;
  double variance = 0;  // sample variance (n - 1); 0 for n < 2
};
Summary summarize(std::span<const double> values);

// Student's t distribution: P(T <= t) with `df` degrees of freedom (any df > 0: Welch's
// are not whole numbers), and its inverse for 0 < p < 1.
double student_t_cdf(double t, double df);
double student_t_quantile(double p, double df);

struct Interval {
  double estimate = 0;
  double low = 0;
  double high = 0;
};

// Welch's t interval for mean(b) - mean(a) at `confidence` (0.95). Needs n >= 2 on both
// sides; with no spread on either side it is the point estimate itself.
Interval welch_interval(const Summary& a, const Summary& b, double confidence);

// A candidate against the current setting, from their busbw samples (all > 0).
struct Comparison {
  bool measurable = false;  // n >= 2 on both sides
  double gain = 0;          // busbw ratio - 1 (geometric means): +0.10 is 10 % faster
  double gain_low = 0;      // the interval of that ratio - 1
  double gain_high = 0;
  bool significant = false;  // gain_low > 0 and gain >= min_gain: worth changing the default for
  double level = 0;          // of the interval
};
Comparison compare(std::span<const double> current, std::span<const double> candidate, double confidence,
                   double min_gain);

}  // namespace sxcoll::tune
