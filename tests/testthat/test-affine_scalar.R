# tfb_affine_scalar() (deprecated): TFP's AffineScalar, with the cases of
# the old affine_scalar_test.py (TFP 0.13).

test_that("affine_scalar says once per session that it is deprecated", {
  bijectors:::reset_deprecations()
  expect_message(tfb_affine_scalar(1, 2), class = "bijectors_deprecated")
  expect_silent(tfb_affine_scalar(1, 2))
  bijectors:::reset_deprecations()
  expect_snapshot(invisible(tfb_affine_scalar()))
})

test_that("affine_scalar matches TFP's test table", {
  suppressMessages({
    cases <- list(
      list(-1, 2, c(1, 2, 3), c(1, 3, 5), c(1, 1.5, 2), -log(2)),
      list(1, NULL, 1, 2, 0, 0),
      list(NULL, 2, 1, 2, 0.5, log(0.5)),
      list(c(1, -1), NULL, c(1, 1), c(2, 0), c(0, 2), 0),
      list(c(1, -1), c(2, 1), c(1, 1), c(3, 0), c(0, 2), c(-log(2), 0)))
    for (case in cases) {
      b <- tfb_affine_scalar(shift = case[[1]], scale = case[[2]],
                             validate_args = TRUE)
      x <- case[[3]]
      expect_equal(b$forward(x), case[[4]], tolerance = 1e-15)
      expect_equal(b$inverse(x), case[[5]], tolerance = 1e-15)
      # a scalar log-det stays a scalar, as TFP's
      expect_equal(b$inverse_log_det_jacobian(x, 0), case[[6]],
                   tolerance = 1e-15)
      expect_equal(b$forward_log_det_jacobian(x, 0), -case[[6]],
                   tolerance = 1e-15)
    }
  })
})

test_that("affine_scalar is shift after scale, and NULL parts are skipped", {
  suppressMessages({
    x <- matrix(c(-2, 0.5, 3, 1, -1, 4), 2, 3)
    b <- tfb_affine_scalar(c(1, 2, 3), c(2, -0.5, 1.5))
    chain <- tfb_chain(list(tfb_shift(c(1, 2, 3)), tfb_scale(c(2, -0.5, 1.5))))
    expect_equal(b$forward(x), chain$forward(x), tolerance = 1e-15)
    expect_equal(b$inverse(x), chain$inverse(x), tolerance = 1e-15)
    expect_equal(b$forward_log_det_jacobian(x, 1),
                 chain$forward_log_det_jacobian(x, 1), tolerance = 1e-15)
    expect_equal(b$inverse_log_det_jacobian(x, 2),
                 chain$inverse_log_det_jacobian(x, 2), tolerance = 1e-15)
    identity <- tfb_affine_scalar()
    expect_identical(identity$forward(x), x)
    expect_identical(identity$inverse_log_det_jacobian(x, 1), 0)
    expect_identical(tfb_affine_scalar(scale = 2)$shift, NULL)
    expect_identical(tfb_affine_scalar(shift = 2)$scale, NULL)
    expect_identical(tfb_affine_scalar(3, 2)$scale, 2)
    # the parameters given are trainable
    slots <- bijectors:::bijector_parameter_slots(tfb_affine_scalar(3, 2))
    expect_identical(vapply(slots, function(s) s$name, ""), c("shift", "scale"))
    expect_length(bijectors:::bijector_parameter_slots(identity), 0L)
  })
})

test_that("tfb_affine_scalar() has tfprobability's signature and checks its arguments", {
  suppressMessages({
    expect_identical(names(formals(tfb_affine_scalar)),
                     c("shift", "scale", "validate_args", "name"))
    expect_identical(tfb_affine_scalar()$name, "affine_scalar")
    # TFP: "Argument `scale` must be non-zero."
    expect_error(tfb_affine_scalar(scale = 0, validate_args = TRUE),
                 class = "bijectors_error_scale")
    expect_error(tfb_affine_scalar(scale = c(1, 0)),
                 class = "bijectors_error_scale")
    expect_error(tfb_affine_scalar(shift = "a"),
                 class = "bijectors_error_argument")
    expect_error(tfb_affine_scalar(c(1, 2), c(1, 2, 3)),
                 class = "bijectors_error_event_size")
    expect_snapshot(tfb_affine_scalar(scale = 0), error = TRUE)
  })
})

test_that("affine_scalar is accurate to the last bit", {
  skip_if_not_installed("Rmpfr")
  suppressMessages(b <- tfb_affine_scalar(0.3, -1.7))
  x <- accuracy_inputs()
  expect_ulps(b$forward(x), mp(x) * -1.7 + 0.3, max_ulps = 1,
              label = "forward", inputs = x)
  expect_ulps(b$inverse(x), (mp(x) - 0.3) / -1.7, max_ulps = 1,
              label = "inverse", inputs = x)
  expect_ulps(b$forward_log_det_jacobian(1, 0), log(mp(1.7)), max_ulps = 1,
              label = "fldj")
  expect_ulps(b$inverse_log_det_jacobian(1, 0), -log(mp(1.7)), max_ulps = 1,
              label = "ildj")
})
