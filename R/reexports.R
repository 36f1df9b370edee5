# tfprobability re-exports magrittr's pipe, so its users write
# `b %>% tfb_forward(x)` after library(tfprobability) alone; we do the same
# so that such code runs unchanged after library(bijectors).

#' Pipe operator
#'
#' magrittr's forward pipe, re-exported as tfprobability does, so that
#' tfprobability code such as `b %>% tfb_forward(x)` runs unchanged. Base
#' R's `|>` works as well.
#'
#' @name %>%
#' @rdname pipe
#' @keywords internal
#' @importFrom magrittr %>%
#' @usage lhs \%>\% rhs
#' @param lhs A value or the magrittr placeholder.
#' @param rhs A function call using the magrittr semantics.
#' @return The result of calling `rhs(lhs)`.
#' @examples
#' tfb_exp() %>% tfb_forward(c(0, 1))
#' @export
NULL
