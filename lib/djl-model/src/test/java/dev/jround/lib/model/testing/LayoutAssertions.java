package dev.jround.lib.model.testing;

import dev.jround.lib.safetensors.SafetensorsCheckpoint;
import dev.jround.spi.model.TensorLayout;
import dev.jround.spi.model.TensorRole;
import dev.jround.spi.model.TensorSlot;

import java.nio.file.Path;
import java.util.EnumSet;
import java.util.Optional;
import java.util.Set;
import java.util.function.BiConsumer;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** Checks of an architecture's tensor declarations against a real checkpoint, for the architecture plugins' tests. */
public final class LayoutAssertions {

    private LayoutAssertions() {
    }

    /**
     * Asserts that every tensor of {@code dir/model.safetensors} has a slot in {@code layout}, hands each to
     * {@code check} for the architecture's own rules, and returns the roles seen.
     */
    public static Set<TensorRole> everyTensorHasARole(Path dir, TensorLayout layout, BiConsumer<String, TensorSlot> check) {
        Set<TensorRole> seen = EnumSet.noneOf(TensorRole.class);
        try (SafetensorsCheckpoint w = SafetensorsCheckpoint.open(dir.resolve("model.safetensors"))) {
            for (String t : w.names()) {
                Optional<TensorSlot> s = layout.slotOf(t);
                assertTrue(s.isPresent(), dir.getFileName() + ": no role for " + t);
                seen.add(s.get().role());
                check.accept(t, s.get());
            }
        }
        return seen;
    }
}
