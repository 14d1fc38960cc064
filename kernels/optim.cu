// optim.cu: fused in-place parameter updates, one pass over w and its state.
//   sgd_T(n, w, g, lr)                        w -= lr*g
//   momentum_T(n, w, g, v, lr, gamma)         v = gamma*v + lr*g; w -= v
//   nesterov_T(n, w, g, v, lr, gamma)         v = gamma*v + lr*g; w -= gamma*v + lr*g
//   adagrad_T(n, w, g, G, lr, eps)            G += g^2; w -= lr*g/sqrt(G + eps)
//   rmsprop_T(n, w, g, G, lr, rho, eps)       G = rho*G + (1-rho)*g^2; w -= lr*g/sqrt(G + eps)
//   adadelta_T(n, w, g, G, D, lr, rho, eps)   G = rho*G + (1-rho)*g^2;
//       u = g*sqrt(D + eps)/sqrt(G + eps); w -= lr*u; D = rho*D + (1-rho)*u^2
//   adam_T(n, w, g, m, v, lr, b1, b2, eps, c1, c2)   m = b1*m + (1-b1)*g;
//       v = b2*v + (1-b2)*g^2; w -= lr*(c1*m)/(sqrt(c2*v) + eps), with the bias
//       corrections c1 = 1/(1-b1^t), c2 = 1/(1-b2^t) computed by the caller
#include "knet_common.cuh"

#define KNET_OPTIM(BITS, T)                                                                   \
    extern "C" __global__ void sgd_##BITS(long long n, T* w, const T* g, T lr) {              \
        KNET_LOOP(i, n) w[i] -= lr * g[i];                                                    \
    }                                                                                         \
    extern "C" __global__ void momentum_##BITS(long long n, T* w, const T* g, T* v, T lr,     \
                                               T gamma) {                                     \
        KNET_LOOP(i, n) {                                                                     \
            v[i] = gamma * v[i] + lr * g[i];                                                  \
            w[i] -= v[i];                                                                     \
        }                                                                                     \
    }                                                                                         \
    extern "C" __global__ void nesterov_##BITS(long long n, T* w, const T* g, T* v, T lr,     \
                                               T gamma) {                                     \
        KNET_LOOP(i, n) {                                                                     \
            v[i] = gamma * v[i] + lr * g[i];                                                  \
            w[i] -= gamma * v[i] + lr * g[i];                                                 \
        }                                                                                     \
    }                                                                                         \
    extern "C" __global__ void adagrad_##BITS(long long n, T* w, const T* g, T* G, T lr,      \
                                              T eps) {                                        \
        KNET_LOOP(i, n) {                                                                     \
            G[i] += g[i] * g[i];                                                              \
            w[i] -= lr * g[i] * knet_rsqrt(G[i] + eps);                                       \
        }                                                                                     \
    }                                                                                         \
    extern "C" __global__ void rmsprop_##BITS(long long n, T* w, const T* g, T* G, T lr,      \
                                              T rho, T eps) {                                 \
        KNET_LOOP(i, n) {                                                                     \
            G[i] = rho * G[i] + (T(1) - rho) * g[i] * g[i];                                   \
            w[i] -= lr * g[i] * knet_rsqrt(G[i] + eps);                                       \
        }                                                                                     \
    }                                                                                         \
    extern "C" __global__ void adadelta_##BITS(long long n, T* w, const T* g, T* G, T* D,     \
                                               T lr, T rho, T eps) {                          \
        KNET_LOOP(i, n) {                                                                     \
            G[i] = rho * G[i] + (T(1) - rho) * g[i] * g[i];                                   \
            T u = g[i] * knet_sqrt(D[i] + eps) * knet_rsqrt(G[i] + eps);                      \
            w[i] -= lr * u;                                                                   \
            D[i] = rho * D[i] + (T(1) - rho) * u * u;                                         \
        }                                                                                     \
    }                                                                                         \
    extern "C" __global__ void adam_##BITS(long long n, T* w, const T* g, T* m, T* v, T lr,   \
                                           T b1, T b2, T eps, T c1, T c2) {                   \
        KNET_LOOP(i, n) {                                                                     \
            m[i] = b1 * m[i] + (T(1) - b1) * g[i];                                            \
            v[i] = b2 * v[i] + (T(1) - b2) * g[i] * g[i];                                     \
            w[i] -= lr * (c1 * m[i]) / (knet_sqrt(c2 * v[i]) + eps);                          \
        }                                                                                     \
    }
KNET_BOTH(KNET_OPTIM)
