package dev.jround.spi.model;

/**
 * One quantizable linear layer, named by its checkpoint module path (the weight tensor is
 * {@code name + ".weight"}, shape {@code [outFeatures, inFeatures]}).
 */
public record LinearInfo(String name, int inFeatures, int outFeatures, boolean hasBias) {

    public String weightName() {
        return name + ".weight";
    }

    public String biasName() {
        return name + ".bias";
    }
}
