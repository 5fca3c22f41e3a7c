package dev.jround.kernel.model;

import dev.jround.spi.InvalidInputException;

import java.util.LinkedHashSet;
import java.util.Locale;
import java.util.Set;

/**
 * AutoRound's {@code --device_map} / {@code --device} values as jround reads them: {@code 0}, {@code auto} or nothing
 * mean "the best available backend", any other single name picks that backend (an unknown one is refused by
 * {@link ModelLoader#deviceFor}). A list of several devices ({@code 0,1}) is refused: a jround job runs on one device.
 */
public final class DeviceFlag {

    private DeviceFlag() {
    }

    /** The backend name to ask {@link ModelLoader} for, or {@code null} for the best available one. */
    public static String backendName(String requested) {
        if (requested == null) {
            return null;
        }
        String want = requested.toLowerCase(Locale.ROOT).strip();
        Set<String> items = new LinkedHashSet<>();
        for (String s : want.split(",")) {
            if (!s.isBlank()) {
                items.add(s.strip());
            }
        }
        if (items.size() > 1) {
            throw new InvalidInputException("--device_map " + requested + " names several devices: jround runs one job on one device",
                    "give one device: --device_map 0 or auto (the best available backend), cpu, or an installed backend's name");
        }
        String one = items.isEmpty() ? "" : items.iterator().next();
        return one.isEmpty() || one.equals("auto") || one.matches("\\d+") ? null : one;
    }
}
