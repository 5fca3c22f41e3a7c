package dev.jround.kernel.calib;

import java.math.BigInteger;

/**
 * CPython's {@code random.Random}: a Mersenne Twister (MT19937) seeded from an integer the way
 * {@code random.seed(int)} does it ({@code init_by_array} over the 32-bit words of |seed|), with
 * {@code getrandbits}, {@code _randbelow} and {@code shuffle} as in CPython 3.11. The reference shuffles
 * local and several hub datasets with {@code random.Random(seed).shuffle(samples)}.
 */
public final class PythonRandom {

    private static final int N = 624;
    private static final int M = 397;
    private final int[] mt = new int[N];
    private int mti;

    public PythonRandom(long seed) {
        this(BigInteger.valueOf(seed).abs());
    }

    public PythonRandom(BigInteger seed) {
        BigInteger s = seed.abs();
        int words = Math.max(1, (s.bitLength() + 31) / 32);
        int[] key = new int[words];
        for (int i = 0; i < words; i++) {
            key[i] = s.shiftRight(32 * i).intValue();
        }
        initByArray(key);
    }

    private void initGenrand(int s) {
        mt[0] = s;
        for (mti = 1; mti < N; mti++) {
            mt[mti] = 1812433253 * (mt[mti - 1] ^ (mt[mti - 1] >>> 30)) + mti;
        }
    }

    private void initByArray(int[] key) {
        initGenrand(19650218);
        int i = 1;
        int j = 0;
        for (int k = Math.max(N, key.length); k > 0; k--) {
            mt[i] = (mt[i] ^ ((mt[i - 1] ^ (mt[i - 1] >>> 30)) * 1664525)) + key[j] + j;
            i++;
            j++;
            if (i >= N) {
                mt[0] = mt[N - 1];
                i = 1;
            }
            if (j >= key.length) {
                j = 0;
            }
        }
        for (int k = N - 1; k > 0; k--) {
            mt[i] = (mt[i] ^ ((mt[i - 1] ^ (mt[i - 1] >>> 30)) * 1566083941)) - i;
            i++;
            if (i >= N) {
                mt[0] = mt[N - 1];
                i = 1;
            }
        }
        mt[0] = 0x80000000;
    }

    /** The next 32 random bits, as an unsigned value. */
    public long nextUint32() {
        int y;
        if (mti >= N) {
            int kk;
            for (kk = 0; kk < N - M; kk++) {
                y = (mt[kk] & 0x80000000) | (mt[kk + 1] & 0x7fffffff);
                mt[kk] = mt[kk + M] ^ (y >>> 1) ^ ((y & 1) != 0 ? 0x9908b0df : 0);
            }
            for (; kk < N - 1; kk++) {
                y = (mt[kk] & 0x80000000) | (mt[kk + 1] & 0x7fffffff);
                mt[kk] = mt[kk + (M - N)] ^ (y >>> 1) ^ ((y & 1) != 0 ? 0x9908b0df : 0);
            }
            y = (mt[N - 1] & 0x80000000) | (mt[0] & 0x7fffffff);
            mt[N - 1] = mt[M - 1] ^ (y >>> 1) ^ ((y & 1) != 0 ? 0x9908b0df : 0);
            mti = 0;
        }
        y = mt[mti++];
        y ^= y >>> 11;
        y ^= (y << 7) & 0x9d2c5680;
        y ^= (y << 15) & 0xefc60000;
        y ^= y >>> 18;
        return y & 0xffffffffL;
    }

    /** {@code getrandbits(k)} for {@code 0 < k <= 32}. */
    public long getRandBits(int k) {
        if (k <= 0 || k > 32) {
            throw new IllegalArgumentException("k must be in 1..32: " + k);
        }
        return nextUint32() >>> (32 - k);
    }

    /** {@code _randbelow(n)}: uniform in {@code [0, n)} by rejection over {@code n.bit_length()} bits. */
    public int randBelow(int n) {
        int k = 32 - Integer.numberOfLeadingZeros(n);
        long r = getRandBits(k);
        while (r >= n) {
            r = getRandBits(k);
        }
        return (int) r;
    }

    /** Fisher-Yates as {@code random.shuffle}: for i from n-1 down to 1, swap i with randbelow(i+1). */
    public void shuffle(int[] values) {
        for (int i = values.length - 1; i > 0; i--) {
            int j = randBelow(i + 1);
            int t = values[i];
            values[i] = values[j];
            values[j] = t;
        }
    }

    /** The order {@code random.Random(seed).shuffle} puts {@code n} elements in. */
    public static int[] shuffleOrder(int n, long seed) {
        int[] order = identity(n);
        new PythonRandom(seed).shuffle(order);
        return order;
    }

    static int[] identity(int n) {
        int[] order = new int[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        return order;
    }
}
