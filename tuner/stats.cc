#include "tuner/stats.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace sxcoll::tune {

namespace {

// Continued fraction of the incomplete beta function (modified Lentz's method).
double beta_fraction(double a, double b, double x) {
  constexpr double kTiny = 1e-300, kEps = 1e-15;
  const double qab = a + b, qap = a + 1, qam = a - 1;
  double c = 1, d = 1 - qab * x / qap;
  if (std::fabs(d) < kTiny) d = kTiny;
  d = 1 / d;
  double h = d;
  for (int m = 1; m <= 500; ++m) {
    const double m2 = 2.0 * m;
    double aa = m * (b - m) * x / ((qam + m2) * (a + m2));
    d = 1 + aa * d;
    if (std::fabs(d) < kTiny) d = kTiny;
    c = 1 + aa / c;
    if (std::fabs(c) < kTiny) c = kTiny;
    d = 1 / d;
    h *= d * c;
    aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
    d = 1 + aa * d;
    if (std::fabs(d) < kTiny) d = kTiny;
    c = 1 + aa / c;
    if (std::fabs(c) < kTiny) c = kTiny;
    d = 1 / d;
    const double step = d * c;
    h *= step;
    if (std::fabs(step - 1) < kEps) break;
  }
  return h;
}

// The regularized incomplete beta function I_x(a, b).
double incomplete_beta(double a, double b, double x) {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const double front =
      std::exp(std::lgamma(a + b) - std::lgamma(a) - std::lgamma(b) + a * std::log(x) + b * std::log1p(-x));
  if (x < (a + 1) / (a + b + 2)) return front * beta_fraction(a, b, x) / a;
  return 1 - front * beta_fraction(b, a, 1 - x) / b;
}

}  // namespace

Summary summarize(std::span<const double> values) {
  Summary s;
  s.n = values.size();
  if (s.n == 0) return s;
  double sum = 0;
  for (double v : values) sum += v;
  s.mean = sum / static_cast<double>(s.n);
  if (s.n < 2) return s;
  double squares = 0;
  for (double v : values) squares += (v - s.mean) * (v - s.mean);
  s.variance = squares / static_cast<double>(s.n - 1);
  return s;
}

double student_t_cdf(double t, double df) {
  const double tail = 0.5 * incomplete_beta(df / 2, 0.5, df / (df + t * t));
  return t >= 0 ? 1 - tail : tail;
}

double student_t_quantile(double p, double df) {
  if (p <= 0) return -INFINITY;
  if (p >= 1) return INFINITY;
  if (p < 0.5) return -student_t_quantile(1 - p, df);
  // The CDF is monotonic: bisection is slow but cannot fail, and it runs a handful of times.
  double low = 0, high = 1;
  while (student_t_cdf(high, df) < p && high < 1e12) high *= 2;
  for (int i = 0; i < 200 && high - low > 1e-12 * high; ++i) {
    const double mid = 0.5 * (low + high);
    (student_t_cdf(mid, df) < p ? low : high) = mid;
  }
  return 0.5 * (low + high);
}

Interval welch_interval(const Summary& a, const Summary& b, double confidence) {
  Interval iv;
  iv.estimate = iv.low = iv.high = b.mean - a.mean;
  const double va = a.variance / static_cast<double>(a.n), vb = b.variance / static_cast<double>(b.n);
  const double se2 = va + vb;
  if (se2 <= 0) return iv;
  // Welch-Satterthwaite degrees of freedom.
  const double df = se2 * se2 / (va * va / static_cast<double>(a.n - 1) + vb * vb / static_cast<double>(b.n - 1));
  const double half = student_t_quantile(0.5 + confidence / 2, df) * std::sqrt(se2);
  iv.low = iv.estimate - half;
  iv.high = iv.estimate + half;
  return iv;
}

Comparison compare(std::span<const double> current, std::span<const double> candidate, double confidence,
                   double min_gain) {
  Comparison c;
  c.level = confidence;
  auto logs = [](std::span<const double> v) {
    std::vector<double> out;
    for (double x : v) out.push_back(std::log(std::max(x, 1e-300)));
    return out;
  };
  const auto la = logs(current), lb = logs(candidate);
  const Summary a = summarize(la), b = summarize(lb);
  if (a.n == 0 || b.n == 0) return c;
  c.gain = std::expm1(b.mean - a.mean);
  c.gain_low = c.gain_high = c.gain;
  c.measurable = a.n >= 2 && b.n >= 2;
  if (!c.measurable) return c;
  const Interval iv = welch_interval(a, b, confidence);
  c.gain_low = std::expm1(iv.low);
  c.gain_high = std::expm1(iv.high);
  c.significant = c.gain_low > 0 && c.gain >= min_gain;
  return c;
}

}  // namespace sxcoll::tune
