package dev.jround.plugin.arch.llama;

/** Rotary embedding inverse frequencies, computed the way transformers' rope initialisers do (in float32). */
final class Rope {

    private Rope() {
    }

    static float[] inverseFrequencies(LlamaSettings.RopeSettings rope, int headDim) {
        int half = headDim / 2;
        float[] inv = new float[half];
        for (int i = 0; i < half; i++) {
            float exponent = (float) (2 * i) / headDim;
            inv[i] = 1.0f / (float) Math.pow(rope.theta(), exponent);
        }
        switch (rope.type()) {
            case "linear" -> {
                for (int i = 0; i < half; i++) {
                    inv[i] = (float) (inv[i] / rope.factor());
                }
            }
            case "llama3" -> llama3(inv, rope);
            default -> {
            }
        }
        return inv;
    }

    /** Llama 3.1: low frequencies divided by the factor, high ones kept, the band between interpolated. */
    private static void llama3(float[] inv, LlamaSettings.RopeSettings rope) {
        double factor = rope.factor();
        double oldContext = rope.originalMaxPositions();
        double lowFreqWavelen = oldContext / rope.lowFreqFactor();
        double highFreqWavelen = oldContext / rope.highFreqFactor();
        for (int i = 0; i < inv.length; i++) {
            float f = inv[i];
            float wavelen = (float) (2 * Math.PI) / f;
            float scaled = wavelen > lowFreqWavelen ? (float) (f / factor) : f;
            boolean medium = !(wavelen < highFreqWavelen) && !(wavelen > lowFreqWavelen);
            if (medium) {
                float smooth = (float) ((oldContext / wavelen - rope.lowFreqFactor()) / (rope.highFreqFactor() - rope.lowFreqFactor()));
                scaled = (float) ((1 - smooth) * scaled / factor + smooth * scaled);
            }
            inv[i] = scaled;
        }
    }
}
