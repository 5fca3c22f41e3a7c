package dev.jround.spi.model;

/**
 * Where a checkpoint tensor sits in the model: its role, the block it belongs to and which of the role's
 * parameters it is.
 *
 * @param role   what the tensor means
 * @param block  the decoder block, or -1 for a model-level role
 * @param expert the expert of a per-expert role, or -1
 * @param part   weight, bias or a stored buffer
 */
public record TensorSlot(TensorRole role, int block, int expert, Part part) {

    /** Which parameter of a module the tensor is. */
    public enum Part { WEIGHT, BIAS, BUFFER }

    public TensorSlot {
        if (role == null || part == null) {
            throw new IllegalArgumentException("a tensor slot needs a role and a part");
        }
        if (role.perBlock() != (block >= 0)) {
            throw new IllegalArgumentException(role + (role.perBlock() ? " needs a block index" : " has no block index"));
        }
        if (role.perExpert() != (expert >= 0)) {
            throw new IllegalArgumentException(role + (role.perExpert() ? " needs an expert index" : " has no expert index"));
        }
    }

    /** A model-level or per-block tensor of a role that is not per expert. */
    public static TensorSlot of(TensorRole role, int block, Part part) {
        return new TensorSlot(role, block, -1, part);
    }
}
