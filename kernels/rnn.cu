// rnn.cu: fused LSTM and GRU cells for one time step of a (B, H) batch.
// Gate order as in cuDNN / PyTorch: LSTM i, f, n, o; GRU r, z, n.
//   lstm_T(B, H, g, c0, h, c, act)   g (B, 4H) pre-activations (x@Wi + h@Wh + biases);
//       i,f,o = sigm, n = tanh; c = f*c0 + i*n; h = o*tanh(c); act (B, 4H) keeps i,f,n,o
//   lstmback_T(B, H, act, c0, c, dh, dc, dg, dc0)
//       dg (B, 4H) gradient of the pre-activations, dc0 of the previous cell
//   gru_T(B, H, gx, gh, h0, h, act)   gx = x@Wi + bi, gh = h0@Wh + bh, each (B, 3H);
//       r,z = sigm(gx + gh), n = tanh(gx_n + r*gh_n); h = (1-z)*n + z*h0; act keeps r,z,n
//   gruback_T(B, H, act, gh, h0, dh, dgx, dgh, dh0)
//       dh0 is the direct part (z*dh); the part through gh comes from dgh @ Wh
#include "knet_common.cuh"

template <class T>
__device__ void knet_lstm(long long B, long long H, const T* g, const T* c0, T* h, T* c, T* act) {
    KNET_LOOP(k, B * H) {
        long long b = k / H, j = k % H;
        const T* gb = g + b * 4 * H;
        T i = knet_sigm(gb[j]), f = knet_sigm(gb[H + j]);
        T n = knet_tanh(gb[2 * H + j]), o = knet_sigm(gb[3 * H + j]);
        T cc = f * c0[k] + i * n;
        c[k] = cc;
        h[k] = o * knet_tanh(cc);
        T* ab = act + b * 4 * H;
        ab[j] = i; ab[H + j] = f; ab[2 * H + j] = n; ab[3 * H + j] = o;
    }
}

template <class T>
__device__ void knet_lstmback(long long B, long long H, const T* act, const T* c0, const T* c,
                              const T* dh, const T* dc, T* dg, T* dc0) {
    KNET_LOOP(k, B * H) {
        long long b = k / H, j = k % H;
        const T* ab = act + b * 4 * H;
        T i = ab[j], f = ab[H + j], n = ab[2 * H + j], o = ab[3 * H + j];
        T tc = knet_tanh(c[k]);
        T dct = dc[k] + dh[k] * o * (T(1) - tc * tc);
        T* db = dg + b * 4 * H;
        db[j] = dct * n * i * (T(1) - i);
        db[H + j] = dct * c0[k] * f * (T(1) - f);
        db[2 * H + j] = dct * i * (T(1) - n * n);
        db[3 * H + j] = dh[k] * tc * o * (T(1) - o);
        dc0[k] = dct * f;
    }
}

template <class T>
__device__ void knet_gru(long long B, long long H, const T* gx, const T* gh, const T* h0, T* h,
                         T* act) {
    KNET_LOOP(k, B * H) {
        long long b = k / H, j = k % H;
        const T* xb = gx + b * 3 * H;
        const T* hb = gh + b * 3 * H;
        T r = knet_sigm(xb[j] + hb[j]), z = knet_sigm(xb[H + j] + hb[H + j]);
        T n = knet_tanh(xb[2 * H + j] + r * hb[2 * H + j]);
        h[k] = (T(1) - z) * n + z * h0[k];
        T* ab = act + b * 3 * H;
        ab[j] = r; ab[H + j] = z; ab[2 * H + j] = n;
    }
}

template <class T>
__device__ void knet_gruback(long long B, long long H, const T* act, const T* gh, const T* h0,
                             const T* dh, T* dgx, T* dgh, T* dh0) {
    KNET_LOOP(k, B * H) {
        long long b = k / H, j = k % H;
        const T* ab = act + b * 3 * H;
        T r = ab[j], z = ab[H + j], n = ab[2 * H + j];
        T dn = dh[k] * (T(1) - z) * (T(1) - n * n);            // through tanh
        T dz = dh[k] * (h0[k] - n) * z * (T(1) - z);
        T dr = dn * gh[b * 3 * H + 2 * H + j] * r * (T(1) - r);
        T* xb = dgx + b * 3 * H;
        T* hb = dgh + b * 3 * H;
        xb[j] = dr; xb[H + j] = dz; xb[2 * H + j] = dn;
        hb[j] = dr; hb[H + j] = dz; hb[2 * H + j] = dn * r;
        dh0[k] = dh[k] * z;
    }
}

#define KNET_RNN(BITS, T)                                                                     \
    extern "C" __global__ void lstm_##BITS(long long B, long long H, const T* g, const T* c0, \
                                           T* h, T* c, T* act) {                              \
        knet_lstm(B, H, g, c0, h, c, act);                                                    \
    }                                                                                         \
    extern "C" __global__ void lstmback_##BITS(long long B, long long H, const T* act,        \
                                               const T* c0, const T* c, const T* dh,          \
                                               const T* dc, T* dg, T* dc0) {                  \
        knet_lstmback(B, H, act, c0, c, dh, dc, dg, dc0);                                     \
    }                                                                                         \
    extern "C" __global__ void gru_##BITS(long long B, long long H, const T* gx, const T* gh,  \
                                          const T* h0, T* h, T* act) {                        \
        knet_gru(B, H, gx, gh, h0, h, act);                                                   \
    }                                                                                         \
    extern "C" __global__ void gruback_##BITS(long long B, long long H, const T* act,         \
                                              const T* gh, const T* h0, const T* dh, T* dgx,  \
                                              T* dgh, T* dh0) {                               \
        knet_gruback(B, H, act, gh, h0, dh, dgx, dgh, dh0);                                   \
    }
KNET_BOTH(KNET_RNN)
