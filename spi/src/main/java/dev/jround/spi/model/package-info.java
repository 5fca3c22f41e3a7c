/**
 * Versioned on its own (OSGi semantic versioning, see docs/plugins.md "Compatibility promise"): bump the minor
 * for additions, the major for anything that breaks a plugin compiled against the previous version.
 */
@Version("1.0.0")
package dev.jround.spi.model;

import org.osgi.annotation.versioning.Version;
