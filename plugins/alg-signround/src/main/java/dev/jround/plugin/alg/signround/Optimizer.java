package dev.jround.plugin.alg.signround;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;

/** One parameter update rule; state lives on {@code stateManager}, temporaries are closed before returning. */
interface Optimizer {

    /** Multiplier applied to the loss before back-propagation. */
    float lossScale();

    /** Updates {@code param} in place from {@code grad} with learning rate {@code lr}. */
    void step(int slot, NDArray param, NDArray grad, float lr, NDManager stateManager);

    /**
     * Signed gradient descent (docs/algorithms.md): {@code p -= lr * sign(g)}, optionally on a momentum buffer
     * {@code buf = momentum * buf + g}; the loss is scaled by 1000 (irrelevant to signs except for underflow).
     */
    static Optimizer signSgd(double momentum, int slots) {
        NDArray[] buffers = new NDArray[slots];
        float mu = (float) momentum;
        return new Optimizer() {
            @Override
            public float lossScale() {
                return 1000f;
            }

            @Override
            public void step(int slot, NDArray param, NDArray grad, float lr, NDManager stateManager) {
                NDArray direction = grad;
                if (mu != 0f) {
                    if (buffers[slot] == null) {
                        buffers[slot] = grad.duplicate();
                        buffers[slot].attach(stateManager);
                    } else {
                        buffers[slot].muli(mu).addi(grad);
                    }
                    direction = buffers[slot];
                }
                try (NDArray sign = direction.sign()) {
                    param.subi(sign.muli(lr));
                }
            }
        };
    }

    /** AdamW with the library defaults (beta1 0.9, beta2 0.999, eps 1e-8, no weight decay), docs/algorithms.md */
    static Optimizer adamW(int slots) {
        NDArray[] first = new NDArray[slots];
        NDArray[] second = new NDArray[slots];
        int[] steps = new int[slots];
        double beta1 = 0.9;
        double beta2 = 0.999;
        float eps = 1e-8f;
        return new Optimizer() {
            @Override
            public float lossScale() {
                return 1f;
            }

            @Override
            public void step(int slot, NDArray param, NDArray grad, float lr, NDManager stateManager) {
                if (first[slot] == null) {
                    first[slot] = grad.zerosLike();
                    first[slot].attach(stateManager);
                    second[slot] = grad.zerosLike();
                    second[slot].attach(stateManager);
                }
                int t = ++steps[slot];
                NDArray m = first[slot];
                NDArray v = second[slot];
                // m += (1 - beta1) * (g - m);  v = beta2 * v + (1 - beta2) * g * g
                try (NDArray delta = grad.sub(m)) {
                    m.addi(delta.muli((float) (1 - beta1)));
                }
                try (NDArray g2 = grad.mul(grad)) {
                    v.muli((float) beta2).addi(g2.muli((float) (1 - beta2)));
                }
                double bc1 = 1 - Math.pow(beta1, t);
                double bc2Sqrt = Math.sqrt(1 - Math.pow(beta2, t));
                try (NDArray denom = v.sqrt()) {
                    denom.divi((float) bc2Sqrt).addi(eps);
                    try (NDArray update = m.div(denom)) {
                        param.subi(update.muli((float) (lr / bc1)));
                    }
                }
            }
        };
    }
}
