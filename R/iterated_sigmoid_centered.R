# The iterated-sigmoid-centered bijector: Stan's stick-breaking map onto
# the simplex. Its methods are shared with tfb_softmax_centered()
# (R/softmax_centered.R, class "tfb_simplex_centered"); its kernel is
# src/iterated_sigmoid_centered.c.

#' Iterated-sigmoid-centered (stick-breaking) bijector
#'
#' Maps \eqn{R^{K-1}} onto the open simplex in \eqn{R^K} by stick
#' breaking, as tfprobability's `tfb_iterated_sigmoid_centered()` and Stan's
#' simplex transform: for \eqn{k < K},
#' \eqn{z_k = \sigma(x_k - \log(K - k))}{z[k] = plogis(x[k] - log(K - k))},
#' \eqn{y_k = z_k \prod_{i<k} (1 - z_i)}{y[k] = z[k] * prod(1 - z[1:(k -
#' 1)])}, and \eqn{y_K}{y[K]} is the rest of the stick, so that the zero
#' vector maps to `rep(1 / K, K)`. The inverse is
#' \eqn{x_k = \log y_k - \log(\sum_{i > k} y_i) + \log(K - k)}{x[k] =
#' log(y[k]) - log(sum(y[(k + 1):K])) + log(K - k)}.
#'
#' The log-determinants are taken with respect to the free coordinates
#' `y[1:(K - 1)]` (TFP's): the forward one is
#' \eqn{\sum_{k=1}^{K} \log y_k}{sum(log(y))}, the inverse one its
#' negative. Unlike [tfb_softmax_centered()] there is no `0.5 * log(K)`.
#'
#' Events are vectors along the last axis: an `N x (K - 1)` matrix of `N`
#' events becomes an `N x K` matrix, `y[n, ]` from `x[n, ]` alone (TFP's
#' row-major order, DESIGN 9). The map is computed in logs, so a stick that
#' is nearly used up keeps its relative accuracy; the inverse sums the
#' remaining stick from the end (TFP subtracts from 1; the two agree on the
#' simplex).
#'
#' @param validate_args `TRUE` or `FALSE`; TFP checks nothing more with it
#'   (the event size is always checked).
#' @param name A string: the bijector's name.
#' @return A bijector of class `c("tfb_iterated_sigmoid_centered",
#'   "bijector")` with `forward_min_event_ndims = inverse_min_event_ndims =
#'   1`; its forward event shape is the input's with the last dimension one
#'   larger.
#' @family structural bijectors
#' @seealso `tfprobability::tfb_iterated_sigmoid_centered()`;
#'   [tfb_softmax_centered()].
#' @examples
#' b <- tfb_iterated_sigmoid_centered()
#' b$forward(c(0, 0, 0))                        # 0.25 0.25 0.25 0.25
#' b$forward(log(c(3, 2, 1)))                   # 0.5 0.25 0.125 0.125
#' b$inverse(c(0.5, 0.25, 0.125, 0.125))
#' b$forward_log_det_jacobian(c(0, 0, 0), event_ndims = 1)   # 4 * log(1/4)
#' @export
tfb_iterated_sigmoid_centered <- function(validate_args = FALSE,
                                          name = "iterated_sigmoid") {
  new_simplex_centered("tfb_iterated_sigmoid_centered",
                       "iterated_sigmoid_centered", validate_args, name)
}
