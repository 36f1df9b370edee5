# The data sets' true densities, against independent computations.

test_that("two_moons_log_density() integrates to 1 and matches Monte Carlo", {
  noise <- 0.1
  # a grid over the support (the moons span [-1, 2] x [-0.5, 1] plus noise)
  step <- 0.02
  grid <- as.matrix(expand.grid(x1 = seq(-1.6, 2.6, by = step),
                                x2 = seq(-1.1, 1.6, by = step)))
  total <- sum(exp(two_moons_log_density(grid, noise = noise, nodes = 400))) *
    step^2
  expect_equal(total, 1, tolerance = 1e-3)
  # at a few points, the density against a Monte Carlo average over the
  # angle of the noise density (independent uniform angles)
  set.seed(7)
  points <- rbind(c(0, 1), c(1, -0.5), c(0.5, 0.25), c(-1.05, 0.02))
  angle <- runif(2e5, 0, pi)
  monte_carlo <- apply(points, 1, function(p) {
    upper <- dnorm(p[1], cos(angle), noise) * dnorm(p[2], sin(angle), noise)
    lower <- dnorm(p[1], 1 - cos(angle), noise) *
      dnorm(p[2], 0.5 - sin(angle), noise)
    0.5 * mean(upper) + 0.5 * mean(lower)
  })
  expect_equal(exp(two_moons_log_density(points, noise = noise)), monte_carlo,
               tolerance = 0.01)
  # far from the moons the log-density stays finite
  expect_true(is.finite(two_moons_log_density(matrix(c(20, 20), 1), 0.05)))
})

test_that("two_moons_log_density() checks its arguments", {
  expect_error(two_moons_log_density(matrix(0, 2, 3)),
               class = "bijectors_error_event_size")
  expect_error(two_moons_log_density(matrix(0, 2, 2), noise = 0),
               class = "bijectors_error_argument")
  expect_error(two_moons_log_density(matrix(0, 2, 2), nodes = 0),
               class = "bijectors_error_argument")
})
