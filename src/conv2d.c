/* Convolutional networks for Glow (TFP's GlowDefaultNetwork and
   GlowDefaultExitNetwork): stacks of 2-D convolutions with "same" padding
   and stride 1 on channels-last images, each followed by a bias and an
   activation.

   Layout. An image batch is an R double array with dim c(N, H, W, C), so in
   memory the batch index varies fastest, then the row, then the column, then
   the channel: seen as a matrix it is (N*H*W) pixels x C channels,
   column-major. A kernel is an R array with dim c(kh, kw, c_in, c_out)
   (TensorFlow's [kh, kw, c_in, c_out]); seen as a matrix it is
   (kh*kw*c_in) x c_out with row di + kh*dj + kh*kw*ci.

   im2col builds the (N*H*W) x (kh*kw*c_in) matrix whose column
   (di, dj, ci) holds, for every pixel (n, h, w), the input at
   (n, h + di - ph, w + dj - pw, ci), zero outside the image (ph = (kh-1)/2,
   pw likewise: TensorFlow's "same" padding for odd kernels). A convolution
   is then one dgemm, im2col %*% kernel. The backward pass takes the kernel
   gradient as im2col^T %*% delta and the input gradient as
   col2im(delta %*% kernel^T), col2im adding each column back where im2col
   took it. A 1x1 kernel needs no im2col: the input is its own matrix.
   The im2col matrix is built a few image columns at a time (the rows of
   one image column are contiguous in both layouts), so that its size stays
   bounded whatever the batch. */

#include <limits.h>
#include <math.h>
#include <string.h>
#include "network.h"
#include "gemm.h"

/* The geometry of one layer; `chunk` is the number of image columns whose
   im2col rows are built at a time, so that the scratch stays within the
   limit the caller gives (a 3x3 layer of 400 filters on a batch of 64
   32x32 images would otherwise need an im2col of 1.9 GB). */
typedef struct {
    int n, h, w, c_in, c_out, kh, kw, chunk;
} conv_shape;

static R_xlen_t conv_pixels(const conv_shape *s)
{
    return (R_xlen_t) s->n * s->h * s->w;
}

static R_xlen_t conv_patch(const conv_shape *s)
{
    return (R_xlen_t) s->kh * s->kw * s->c_in;
}

/* The valid output rows h (as [*first, *last)) for a vertical kernel offset
   `shift` = di - ph: those with 0 <= h + shift < height. */
static void valid_range(int shift, int size, int *first, int *last)
{
    *first = shift < 0 ? -shift : 0;
    *last = shift > 0 ? size - shift : size;
    if (*last < *first)
        *last = *first;
}

/* The im2col rows of the pixels in image columns [w0, w1): col is
   (N*H*(w1 - w0)) x (kh*kw*c_in). For a fixed kernel column and image
   column w, the valid rows are one contiguous run of N * rows values in
   both arrays, so each run is one memcpy. */
static void im2col(const double *input, const conv_shape *s, int w0, int w1,
                   double *col)
{
    R_xlen_t pixels = conv_pixels(s);
    R_xlen_t plane = (R_xlen_t) s->n * s->h;    /* one image column */
    R_xlen_t rows = plane * (w1 - w0);
    int ph = (s->kh - 1) / 2, pw = (s->kw - 1) / 2;
    for (int ci = 0; ci < s->c_in; ci++) {
        const double *channel = input + ci * pixels;
        for (int dj = 0; dj < s->kw; dj++) {
            for (int di = 0; di < s->kh; di++) {
                R_xlen_t column = di + (R_xlen_t) s->kh * dj +
                    (R_xlen_t) s->kh * s->kw * ci;
                double *out = col + column * rows;
                int h0, h1;
                valid_range(di - ph, s->h, &h0, &h1);
                for (int w = w0; w < w1; w++) {
                    double *dest = out + (w - w0) * plane;
                    int source_w = w + dj - pw;
                    if (source_w < 0 || source_w >= s->w || h1 == h0) {
                        memset(dest, 0, (size_t) plane * sizeof(double));
                        continue;
                    }
                    const double *src = channel + source_w * plane +
                        (R_xlen_t) (h0 + di - ph) * s->n;
                    if (h0 > 0)
                        memset(dest, 0, (size_t) h0 * s->n * sizeof(double));
                    memcpy(dest + (R_xlen_t) h0 * s->n, src,
                           (size_t) (h1 - h0) * s->n * sizeof(double));
                    if (h1 < s->h)
                        memset(dest + (R_xlen_t) h1 * s->n, 0,
                               (size_t) (s->h - h1) * s->n * sizeof(double));
                }
            }
        }
    }
}

/* grad_input += col2im(dcol) for the pixels in image columns [w0, w1): the
   adjoint of im2col(). */
static void col2im_add(const double *dcol, const conv_shape *s, int w0,
                       int w1, double *grad_input)
{
    R_xlen_t pixels = conv_pixels(s);
    R_xlen_t plane = (R_xlen_t) s->n * s->h;
    R_xlen_t rows = plane * (w1 - w0);
    int ph = (s->kh - 1) / 2, pw = (s->kw - 1) / 2;
    for (int ci = 0; ci < s->c_in; ci++) {
        double *channel = grad_input + ci * pixels;
        for (int dj = 0; dj < s->kw; dj++) {
            for (int di = 0; di < s->kh; di++) {
                R_xlen_t column = di + (R_xlen_t) s->kh * dj +
                    (R_xlen_t) s->kh * s->kw * ci;
                const double *in = dcol + column * rows;
                int h0, h1;
                valid_range(di - ph, s->h, &h0, &h1);
                R_xlen_t run = (R_xlen_t) (h1 - h0) * s->n;
                for (int w = w0; w < w1; w++) {
                    int source_w = w + dj - pw;
                    if (source_w < 0 || source_w >= s->w)
                        continue;
                    const double *src = in + (w - w0) * plane +
                        (R_xlen_t) h0 * s->n;
                    double *dest = channel + source_w * plane +
                        (R_xlen_t) (h0 + di - ph) * s->n;
                    for (R_xlen_t i = 0; i < run; i++)
                        dest[i] += src[i];
                }
            }
        }
    }
}

/* out ((N*H*W) x c_out) = activation(conv(input, kernel) + bias). `col` is
   scratch of N*H*chunk x (kh*kw*c_in) values (unused for 1x1 kernels). */
static void conv_layer_forward(const double *input, const conv_shape *s,
                               const double *kernel, const double *bias,
                               int activation, double *col, double *out)
{
    const double one = 1.0, zero = 0.0;
    int pixels = (int) conv_pixels(s), inner = (int) conv_patch(s);
    if (s->kh == 1 && s->kw == 1) {
        bj_gemm('N', 'N', pixels, s->c_out, inner, one, input, pixels, kernel,
                inner, zero, out, pixels);
    } else {
        int plane = s->n * s->h;
        for (int w0 = 0; w0 < s->w; w0 += s->chunk) {
            int w1 = w0 + s->chunk < s->w ? w0 + s->chunk : s->w;
            int rows = plane * (w1 - w0);
            im2col(input, s, w0, w1, col);
            bj_gemm('N', 'N', rows, s->c_out, inner, one, col, rows, kernel,
                    inner, zero, out + (R_xlen_t) w0 * plane, pixels);
        }
    }
    add_bias_and_activate(out, pixels, s->c_out, bias, activation);
}

/* The reverse pass of one layer. `delta` holds dLoss/d(out) and is turned
   into dLoss/d(pre-activation) in place (`out` is the layer's output).
   Writes the kernel and bias gradients; with grad_input non-NULL, ADDS
   dLoss/d(input) into it. `col` and `dcol` are scratch as in
   conv_layer_forward(). */
static void conv_layer_backward(const double *input, const conv_shape *s,
                                const double *kernel, int activation,
                                const double *out, double *delta,
                                double *col, double *dcol,
                                double *grad_kernel, double *grad_bias,
                                double *grad_input)
{
    const double one = 1.0, zero = 0.0;
    int pixels = (int) conv_pixels(s), inner = (int) conv_patch(s);
    multiply_activation_derivative(delta, out, (R_xlen_t) pixels * s->c_out,
                                   activation);
    column_sums(delta, pixels, s->c_out, grad_bias);
    if (s->kh == 1 && s->kw == 1) {
        bj_gemm('T', 'N', inner, s->c_out, pixels, one, input, pixels, delta,
                pixels, zero, grad_kernel, inner);
        if (grad_input)
            bj_gemm('N', 'T', pixels, inner, s->c_out, one, delta, pixels,
                    kernel, inner, one, grad_input, pixels);
        return;
    }
    int plane = s->n * s->h;
    for (int w0 = 0; w0 < s->w; w0 += s->chunk) {
        int w1 = w0 + s->chunk < s->w ? w0 + s->chunk : s->w;
        int rows = plane * (w1 - w0);
        const double *chunk_delta = delta + (R_xlen_t) w0 * plane;
        const double *beta = w0 == 0 ? &zero : &one;
        im2col(input, s, w0, w1, col);
        bj_gemm('T', 'N', inner, s->c_out, rows, one, col, rows, chunk_delta,
                pixels, *beta, grad_kernel, inner);
        if (grad_input) {
            bj_gemm('N', 'T', rows, inner, s->c_out, one, chunk_delta, pixels,
                    kernel, inner, zero, dcol, rows);
            col2im_add(dcol, s, w0, w1, grad_input);
        }
    }
}

/* ---- argument checks ---------------------------------------------------- */

/* The c(N, H, W, C) of a double image array, each at least 1 and the pixel
   count within BLAS's int. */
static void image_dims(SEXP x, const char *what, int dims[4])
{
    if (TYPEOF(x) != REALSXP)
        Rf_error("`%s` must be a double array, not of type %s", what,
                 Rf_type2char(TYPEOF(x)));
    SEXP dim = Rf_getAttrib(x, R_DimSymbol);
    if (TYPEOF(dim) != INTSXP || XLENGTH(dim) != 4)
        Rf_error("`%s` must be an array with dim c(N, H, W, C)", what);
    double pixels = 1;
    for (int k = 0; k < 4; k++) {
        dims[k] = INTEGER(dim)[k];
        if (dims[k] < 1)
            Rf_error("`%s` must have every dimension at least 1", what);
        if (k < 3)
            pixels *= dims[k];
    }
    if (pixels > INT_MAX)
        Rf_error("`%s` has more than %d pixels (N * H * W)", what, INT_MAX);
}

/* The layers of a network on images of dims `dims`: per layer its shape
   (kernels are double arrays c(kh, kw, c_in, c_out) with odd kh and kw and
   c_in the previous layer's c_out), biases of length c_out and known
   activation codes. Returns the layer count; arrays are R_alloc'd. Each
   layer's im2col is built `chunk` image columns at a time, as many as keep
   it within scratch_limit values (at least one). Sets *widest to the
   largest scratch any layer's im2col chunk needs and
   *widest_out to the largest layer output. */
static int conv_network_layers(const int dims[4], SEXP kernels, SEXP biases,
                               SEXP activations, double scratch_limit,
                               conv_shape **shapes_out,
                               const double ***kernel_out,
                               const double ***bias_out,
                               double *widest, double *widest_out)
{
    if (TYPEOF(kernels) != VECSXP || TYPEOF(biases) != VECSXP)
        Rf_error("`kernels` and `biases` must be lists");
    R_xlen_t count = XLENGTH(kernels);
    if (count < 1 || count > 1000)
        Rf_error("the network must have between 1 and 1000 layers");
    int layers = (int) count;
    if (XLENGTH(biases) != layers)
        Rf_error("`biases` must have one vector per layer (%d)", layers);
    if (TYPEOF(activations) != INTSXP || XLENGTH(activations) != layers)
        Rf_error("`activations` must be an integer vector with one code per "
                 "layer (%d)", layers);
    conv_shape *shapes = (conv_shape *) R_alloc((size_t) layers,
                                                sizeof(conv_shape));
    const double **kernel = (const double **) R_alloc((size_t) layers,
                                                      sizeof(double *));
    const double **bias = (const double **) R_alloc((size_t) layers,
                                                    sizeof(double *));
    double pixels = (double) dims[0] * dims[1] * dims[2];
    int channels = dims[3];
    *widest = 1;
    *widest_out = 1;
    for (int k = 0; k < layers; k++) {
        SEXP kernel_k = VECTOR_ELT(kernels, k);
        SEXP kdim = Rf_getAttrib(kernel_k, R_DimSymbol);
        if (TYPEOF(kernel_k) != REALSXP || TYPEOF(kdim) != INTSXP ||
            XLENGTH(kdim) != 4)
            Rf_error("kernel %d must be a double array with dim c(kh, kw, "
                     "c_in, c_out)", k + 1);
        const int *kd = INTEGER(kdim);
        if (kd[0] < 1 || kd[1] < 1 || kd[0] % 2 == 0 || kd[1] % 2 == 0)
            Rf_error("kernel %d must have odd height and width", k + 1);
        if (kd[2] != channels)
            Rf_error("kernel %d takes %d channels, but its input has %d",
                     k + 1, kd[2], channels);
        if (kd[3] < 1)
            Rf_error("kernel %d must have at least one output channel",
                     k + 1);
        SEXP bias_k = VECTOR_ELT(biases, k);
        if (TYPEOF(bias_k) != REALSXP || XLENGTH(bias_k) != kd[3])
            Rf_error("bias %d must be a double vector of length %d", k + 1,
                     kd[3]);
        int code = INTEGER(activations)[k];
        if (code < 0 || code >= NETWORK_ACTIVATION_COUNT)
            Rf_error("activation code %d of layer %d is unknown", code,
                     k + 1);
        double patch = (double) kd[0] * kd[1] * kd[2];
        if (patch > INT_MAX || pixels * patch > (double) R_XLEN_T_MAX ||
            pixels * kd[3] > (double) R_XLEN_T_MAX)
            Rf_error("layer %d is too large", k + 1);
        /* image columns per im2col chunk: as many as the limit allows, at
           least one */
        double column_values = (double) dims[0] * dims[1] * patch;
        double columns = floor(scratch_limit / column_values);
        int chunk = columns < 1 ? 1 : (columns > dims[2] ? dims[2] :
                                       (int) columns);
        if ((kd[0] > 1 || kd[1] > 1) && column_values * chunk > *widest)
            *widest = column_values * chunk;
        if (pixels * kd[3] > *widest_out)
            *widest_out = pixels * kd[3];
        shapes[k] = (conv_shape) {dims[0], dims[1], dims[2], kd[2], kd[3],
                                  kd[0], kd[1], chunk};
        kernel[k] = REAL_RO(kernel_k);
        bias[k] = REAL_RO(bias_k);
        channels = kd[3];
    }
    *shapes_out = shapes;
    *kernel_out = kernel;
    *bias_out = bias;
    return layers;
}

/* The most values an im2col chunk may hold, a number >= 1. */
static double checked_scratch_limit(SEXP x)
{
    double limit = scalar_double(x, "scratch_limit");
    if (!(limit >= 1))
        Rf_error("`scratch_limit` must be a number >= 1");
    return limit;
}

static SEXP image_array(const int dims[3], int channels)
{
    SEXP out = PROTECT(Rf_allocVector(REALSXP, (R_xlen_t) dims[0] * dims[1] *
                                      dims[2] * channels));
    SEXP dim = PROTECT(Rf_allocVector(INTSXP, 4));
    INTEGER(dim)[0] = dims[0];
    INTEGER(dim)[1] = dims[1];
    INTEGER(dim)[2] = dims[2];
    INTEGER(dim)[3] = channels;
    Rf_setAttrib(out, R_DimSymbol, dim);
    UNPROTECT(2);
    return out;
}

/* ---- .Call entries ------------------------------------------------------ */

/* C_conv_network_forward(input, kernels, biases, activations, keep_hidden,
   scratch_limit): the network on the images `input` (dim c(N, H, W, C)),
   with im2col chunks of at most scratch_limit values (or one image column
   if that is more). Returns the output
   images (dim c(N, H, W, c_out of the last layer)), or with keep_hidden
   list(output = , hidden = list(<each hidden layer's output images>)). */
SEXP C_conv_network_forward(SEXP input, SEXP kernels, SEXP biases,
                            SEXP activations, SEXP keep_hidden,
                            SEXP scratch_limit)
{
    int nprot = 0;
    int dims[4];
    image_dims(input, "input", dims);
    int keep = scalar_logical(keep_hidden, "keep_hidden");
    double limit = checked_scratch_limit(scratch_limit);
    conv_shape *shapes;
    const double **kernel, **bias;
    double widest, widest_out;
    int layers = conv_network_layers(dims, kernels, biases, activations,
                                     limit, &shapes, &kernel, &bias, &widest,
                                     &widest_out);
    const int *activation = INTEGER_RO(activations);
    double *col = (double *) R_alloc((size_t) widest, sizeof(double));

    SEXP hidden_list = PROTECT(Rf_allocVector(VECSXP, layers - 1));
    nprot++;
    SEXP out = R_NilValue;
    const double *layer_in = REAL_RO(input);
    for (int k = 0; k < layers; k++) {
        double *layer_out;
        if (k < layers - 1) {
            if (keep) {
                SEXP h = image_array(dims, shapes[k].c_out);
                SET_VECTOR_ELT(hidden_list, k, h);
                layer_out = REAL(h);
            } else {
                layer_out = (double *) R_alloc(
                    (size_t) conv_pixels(&shapes[k]) * shapes[k].c_out,
                    sizeof(double));
            }
        } else {
            out = PROTECT(image_array(dims, shapes[k].c_out));
            nprot++;
            layer_out = REAL(out);
        }
        conv_layer_forward(layer_in, &shapes[k], kernel[k], bias[k],
                           activation[k], col, layer_out);
        layer_in = layer_out;
    }
    if (!keep) {
        UNPROTECT(nprot);
        return out;
    }
    SEXP result = PROTECT(Rf_allocVector(VECSXP, 2));
    nprot++;
    SEXP names = PROTECT(Rf_allocVector(STRSXP, 2));
    nprot++;
    SET_VECTOR_ELT(result, 0, out);
    SET_VECTOR_ELT(result, 1, hidden_list);
    SET_STRING_ELT(names, 0, Rf_mkChar("output"));
    SET_STRING_ELT(names, 1, Rf_mkChar("hidden"));
    Rf_setAttrib(result, R_NamesSymbol, names);
    UNPROTECT(nprot);
    return result;
}

/* The output images of a layer, checked against its shape. */
static const double *checked_layer_output(SEXP x, const char *what, int k,
                                          const conv_shape *s)
{
    int dims[4];
    image_dims(x, what, dims);
    if (dims[0] != s->n || dims[1] != s->h || dims[2] != s->w ||
        dims[3] != s->c_out)
        Rf_error("%s %d must have dim c(%d, %d, %d, %d)", what, k + 1, s->n,
                 s->h, s->w, s->c_out);
    return REAL_RO(x);
}

/* C_conv_network_backward(input, kernels, biases, activations, hidden,
   output, grad_output, want_input, scratch_limit): the reverse pass of
   C_conv_network_forward(input, kernels, biases, activations, TRUE, ...), whose
   result gave `hidden` and `output`; grad_output is dLoss/d(output).
   Returns list(kernels = <gradients shaped like the kernels>, biases = ,
   input = dLoss/d(input) or NULL when want_input is FALSE). */
SEXP C_conv_network_backward(SEXP input, SEXP kernels, SEXP biases,
                             SEXP activations, SEXP hidden, SEXP output,
                             SEXP grad_output, SEXP want_input,
                             SEXP scratch_limit)
{
    int nprot = 0;
    int dims[4];
    image_dims(input, "input", dims);
    int with_input = scalar_logical(want_input, "want_input");
    double limit = checked_scratch_limit(scratch_limit);
    conv_shape *shapes;
    const double **kernel, **bias;
    double widest, widest_out;
    int layers = conv_network_layers(dims, kernels, biases, activations,
                                     limit, &shapes, &kernel, &bias, &widest,
                                     &widest_out);
    const int *activation = INTEGER_RO(activations);
    if (TYPEOF(hidden) != VECSXP || XLENGTH(hidden) != layers - 1)
        Rf_error("`hidden` must be a list of the %d hidden layers' outputs",
                 layers - 1);
    const double **layer_out = (const double **) R_alloc((size_t) layers,
                                                         sizeof(double *));
    for (int k = 0; k < layers - 1; k++)
        layer_out[k] = checked_layer_output(VECTOR_ELT(hidden, k),
                                            "hidden output", k, &shapes[k]);
    layer_out[layers - 1] = checked_layer_output(output, "output", layers - 1,
                                                 &shapes[layers - 1]);
    const double *grad_out = checked_layer_output(
        grad_output, "grad_output", layers - 1, &shapes[layers - 1]);

    SEXP kernel_grads = PROTECT(Rf_allocVector(VECSXP, layers));
    nprot++;
    SEXP bias_grads = PROTECT(Rf_allocVector(VECSXP, layers));
    nprot++;
    for (int k = 0; k < layers; k++) {
        SEXP gk = Rf_allocVector(REALSXP, conv_patch(&shapes[k]) *
                                 shapes[k].c_out);
        SET_VECTOR_ELT(kernel_grads, k, gk);
        Rf_setAttrib(gk, R_DimSymbol,
                     Rf_getAttrib(VECTOR_ELT(kernels, k), R_DimSymbol));
        SET_VECTOR_ELT(bias_grads, k,
                       Rf_allocVector(REALSXP, shapes[k].c_out));
    }
    SEXP grad_input = R_NilValue;
    if (with_input) {
        grad_input = PROTECT(image_array(dims, dims[3]));
        nprot++;
        memset(REAL(grad_input), 0, (size_t) XLENGTH(grad_input) *
               sizeof(double));
    }

    double *col = (double *) R_alloc((size_t) widest, sizeof(double));
    double *dcol = (double *) R_alloc((size_t) widest, sizeof(double));
    double *delta = (double *) R_alloc((size_t) widest_out, sizeof(double));
    double *next = (double *) R_alloc((size_t) widest_out, sizeof(double));
    memcpy(delta, grad_out, (size_t) conv_pixels(&shapes[layers - 1]) *
           shapes[layers - 1].c_out * sizeof(double));
    for (int k = layers - 1; k >= 0; k--) {
        const double *layer_in = k == 0 ? REAL_RO(input) : layer_out[k - 1];
        double *grad_in = NULL;
        if (k > 0) {
            grad_in = next;
            memset(next, 0, (size_t) conv_pixels(&shapes[k]) *
                   shapes[k].c_in * sizeof(double));
        } else if (with_input) {
            grad_in = REAL(grad_input);
        }
        conv_layer_backward(layer_in, &shapes[k], kernel[k], activation[k],
                            layer_out[k], delta, col, dcol,
                            REAL(VECTOR_ELT(kernel_grads, k)),
                            REAL(VECTOR_ELT(bias_grads, k)), grad_in);
        double *swap = delta;
        delta = next;
        next = swap;
    }

    SEXP result = network_backward_result(kernel_grads, bias_grads,
                                          grad_input);
    UNPROTECT(nprot);
    return result;
}
