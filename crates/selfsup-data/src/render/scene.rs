//! Scenes: a room, primitives with procedural textures, lights and a camera; random ones drawn
//! deterministically from a seed.

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use serde::{Deserialize, Serialize};

use crate::error::{DataError, Result};
use crate::render::{Shape, Vec3};

/// How a surface's colour varies over it (in world coordinates, so a texture is painted in
/// space rather than wrapped around the shape).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Texture {
    /// One colour.
    Solid,
    /// A 3D checkerboard of cells of this size.
    Checker(f32),
    /// Diagonal stripes of this width.
    Stripes(f32),
}

/// A surface's look: linear-RGB albedo and a texture alternating it with a second colour.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Material {
    /// The main albedo (linear RGB, each in `[0, 1]`).
    pub colour: Vec3,
    /// The texture's other albedo.
    pub second: Vec3,
    /// The pattern.
    pub texture: Texture,
}

impl Material {
    /// A one-coloured material.
    pub fn solid(colour: Vec3) -> Self {
        Self {
            colour,
            second: colour,
            texture: Texture::Solid,
        }
    }

    /// The albedo at world point `p`.
    pub fn albedo(&self, p: Vec3) -> Vec3 {
        let odd = match self.texture {
            Texture::Solid => false,
            Texture::Checker(s) => {
                ((p.x / s).floor() + (p.y / s).floor() + (p.z / s).floor()) as i64 % 2 != 0
            }
            Texture::Stripes(s) => ((p.x + p.y + p.z) / s).floor() as i64 % 2 != 0,
        };
        if odd { self.second } else { self.colour }
    }
}

/// A shape with its material: one instance of the scene.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Object {
    /// Its geometry.
    pub shape: Shape,
    /// Its look.
    pub material: Material,
}

/// A point light.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Light {
    /// Where it is.
    pub position: Vec3,
    /// Its linear-RGB intensity (no fall-off with distance).
    pub intensity: Vec3,
}

/// A pinhole camera.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Camera {
    /// Where it is.
    pub position: Vec3,
    /// The point it looks at (not straight up or down).
    pub target: Vec3,
    /// Vertical field of view in radians.
    pub fov: f32,
}

impl Camera {
    /// The camera frame as world directions: right, down and forward (the frame depth and
    /// normals are given in: x right, y down, z forward).
    pub fn frame(&self) -> [Vec3; 3] {
        let forward = (self.target - self.position).normalized();
        let right = Vec3::new(0.0, 1.0, 0.0).cross(forward).normalized();
        let down = right.cross(forward);
        [right, down, forward]
    }
}

/// Everything a rendering needs.
#[derive(Clone, Debug, PartialEq)]
pub struct Scene {
    /// The viewpoint.
    pub camera: Camera,
    /// The lights.
    pub lights: Vec<Light>,
    /// The instances (room surfaces included); instance id `i + 1` is `objects[i]`.
    pub objects: Vec<Object>,
    /// Light every surface gets regardless of the lights (a share of its albedo).
    pub ambient: f32,
}

/// How random scenes are drawn.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SceneConfig {
    /// Fewest and most primitives in the room (spheres, boxes, cylinders, panels).
    pub objects: [usize; 2],
    /// Fewest and most lights.
    pub lights: [usize; 2],
    /// Probability that the room has a ceiling; without one, rays that leave the room hit
    /// nothing (no depth).
    pub ceiling: f64,
    /// Narrowest and widest vertical field of view, in degrees.
    pub fov_degrees: [f32; 2],
}

impl Default for SceneConfig {
    fn default() -> Self {
        Self {
            objects: [3, 8],
            lights: [1, 3],
            ceiling: 0.5,
            fov_degrees: [45.0, 70.0],
        }
    }
}

impl SceneConfig {
    /// Checks the ranges.
    pub fn validate(&self) -> Result<()> {
        let bad = |reason: String| Err(DataError::invalid("scene", reason));
        if self.objects[0] > self.objects[1] || self.lights[0] > self.lights[1] {
            return bad(format!(
                "objects {:?} and lights {:?} must be [fewest, most]",
                self.objects, self.lights
            ));
        }
        if self.lights[0] == 0 {
            return bad("at least one light is needed".into());
        }
        if !(0.0..=1.0).contains(&self.ceiling) {
            return bad(format!("ceiling {} is not a probability", self.ceiling));
        }
        let [lo, hi] = self.fov_degrees;
        if !(lo > 0.0 && lo <= hi && hi < 180.0) {
            return bad(format!(
                "fov_degrees {:?} must be within (0, 180), narrowest first",
                self.fov_degrees
            ));
        }
        Ok(())
    }
}

/// A random albedo: a hue with moderate saturation and value, in linear RGB.
fn random_colour(rng: &mut StdRng, saturation: [f32; 2], value: [f32; 2]) -> Vec3 {
    let (h, s, v) = (
        rng.random_range(0.0..6.0f32),
        rng.random_range(saturation[0]..=saturation[1]),
        rng.random_range(value[0]..=value[1]),
    );
    let f = |n: f32| {
        let k = (n + h) % 6.0;
        v - v * s * k.min(4.0 - k).clamp(0.0, 1.0)
    };
    let srgb = Vec3::new(f(5.0), f(3.0), f(1.0));
    // HSV gives sRGB-like values; squaring is close enough to sRGB's curve for linear albedos.
    srgb.times(srgb)
}

fn random_material(rng: &mut StdRng, saturation: [f32; 2], value: [f32; 2]) -> Material {
    let colour = random_colour(rng, saturation, value);
    let texture = match rng.random_range(0..4) {
        0 => Texture::Checker(rng.random_range(0.1..0.4)),
        1 => Texture::Stripes(rng.random_range(0.05..0.25)),
        _ => Texture::Solid,
    };
    Material {
        colour,
        second: random_colour(rng, saturation, value),
        texture,
    }
}

impl Scene {
    /// A random room scene, the same for the same `config` and `seed`: an open or closed room
    /// of random size and wall colours, `config.objects` primitives standing on its floor (a
    /// fifth of the spheres float) or hanging on its back wall, `config.lights` lights under
    /// the ceiling and a camera near the front wall looking into the room.
    pub fn random(config: &SceneConfig, seed: u64) -> Result<Self> {
        config.validate()?;
        let mut rng = StdRng::seed_from_u64(seed);
        let (w, d, h) = (
            rng.random_range(4.0..8.0f32),
            rng.random_range(4.0..8.0f32),
            rng.random_range(2.5..3.5f32),
        );
        let (x, y, z) = (
            Vec3::new(w / 2.0, 0.0, 0.0),
            Vec3::new(0.0, h / 2.0, 0.0),
            Vec3::new(0.0, 0.0, d / 2.0),
        );
        let (middle, floor_centre) = (
            Vec3::new(0.0, h / 2.0, d / 2.0),
            Vec3::new(0.0, 0.0, d / 2.0),
        );
        let mut surfaces = vec![
            (floor_centre, x, z), // floor
            (middle + z, x, y),   // back wall
            (middle - z, x, y),   // front wall
            (middle - x, z, y),   // left wall
            (middle + x, z, y),   // right wall
        ];
        if rng.random_bool(config.ceiling) {
            surfaces.push((floor_centre + y * 2.0, x, z));
        }
        let mut objects: Vec<Object> = surfaces
            .into_iter()
            .map(|(center, u, v)| Object {
                shape: Shape::Quad { center, u, v },
                material: random_material(&mut rng, [0.0, 0.35], [0.45, 0.9]),
            })
            .collect();

        let count = rng.random_range(config.objects[0]..=config.objects[1]);
        for _ in 0..count {
            let s = rng.random_range(0.2..0.7f32);
            let (px, pz) = (
                rng.random_range(-(w / 2.0 - s)..(w / 2.0 - s)),
                rng.random_range(1.5..(d - s)),
            );
            let shape = match rng.random_range(0..4) {
                0 => {
                    let lift = if rng.random_bool(0.2) {
                        rng.random_range(0.0..h / 2.0)
                    } else {
                        0.0
                    };
                    Shape::Sphere {
                        center: Vec3::new(px, s + lift, pz),
                        radius: s,
                    }
                }
                1 => {
                    let half = Vec3::new(
                        s,
                        rng.random_range(0.15..1.0f32) * s * 2.0,
                        rng.random_range(0.4..1.0f32) * s,
                    );
                    Shape::Cuboid {
                        center: Vec3::new(px, half.y, pz),
                        half,
                        yaw: rng.random_range(0.0..std::f32::consts::PI),
                    }
                }
                2 => {
                    let half_height = rng.random_range(0.3..1.5f32) * s;
                    Shape::Cylinder {
                        center: Vec3::new(px, half_height, pz),
                        radius: s * 0.7,
                        half_height,
                    }
                }
                _ => {
                    // A panel on the back wall, just in front of it; panels keep apart in
                    // depth so that overlapping ones do not flicker between each other.
                    let (pw, ph) = (s * 1.5, s * rng.random_range(0.6..1.4f32));
                    let gap = rng.random_range(0.01..0.08f32);
                    Shape::Quad {
                        center: Vec3::new(
                            px,
                            rng.random_range(ph..(h - ph).max(ph + 0.01)),
                            d - gap,
                        ),
                        u: Vec3::new(pw, 0.0, 0.0),
                        v: Vec3::new(0.0, ph, 0.0),
                    }
                }
            };
            objects.push(Object {
                shape,
                material: random_material(&mut rng, [0.3, 0.9], [0.4, 1.0]),
            });
        }

        let n = rng.random_range(config.lights[0]..=config.lights[1]);
        let lights = (0..n)
            .map(|_| {
                let warmth = rng.random_range(0.8..1.0f32);
                Light {
                    position: Vec3::new(
                        rng.random_range(-w / 2.5..w / 2.5),
                        rng.random_range(0.7 * h..0.95 * h),
                        rng.random_range(0.5..d - 0.5),
                    ),
                    intensity: Vec3::new(1.0, warmth, warmth * warmth) * (1.1 / n as f32),
                }
            })
            .collect();
        let camera = Camera {
            position: Vec3::new(
                rng.random_range(-0.3 * w..0.3 * w),
                rng.random_range(1.0..2.0f32.min(h - 0.3)),
                rng.random_range(0.3..0.8f32),
            ),
            target: Vec3::new(
                rng.random_range(-0.25 * w..0.25 * w),
                rng.random_range(0.3..1.0),
                rng.random_range(0.5 * d..0.9 * d),
            ),
            fov: rng
                .random_range(config.fov_degrees[0]..=config.fov_degrees[1])
                .to_radians(),
        };
        Ok(Self {
            camera,
            lights,
            objects,
            ambient: 0.15,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_camera_frame_is_orthonormal_with_y_down() {
        let camera = Camera {
            position: Vec3::new(0.0, 1.0, 0.0),
            target: Vec3::new(1.0, 0.5, 4.0),
            fov: 1.0,
        };
        let [r, d, f] = camera.frame();
        for v in [r, d, f] {
            assert!((v.length() - 1.0).abs() < 1e-5);
        }
        assert!(r.dot(d).abs() < 1e-5 && r.dot(f).abs() < 1e-5 && d.dot(f).abs() < 1e-5);
        assert!(d.y < 0.0, "down points down");
        assert!(r.y.abs() < 1e-6, "no roll");
    }

    #[test]
    fn seeds_decide_scenes() {
        let config = SceneConfig::default();
        let a = Scene::random(&config, 7).unwrap();
        assert_eq!(a, Scene::random(&config, 7).unwrap());
        assert_ne!(a, Scene::random(&config, 8).unwrap());
        let room = 5;
        let extra = a.objects.len() - room;
        assert!(
            (config.objects[0]..=config.objects[1] + 1).contains(&extra),
            "{extra} objects besides the walls and floor (one more with a ceiling)"
        );
        for bad in [
            SceneConfig {
                lights: [0, 0],
                ..SceneConfig::default()
            },
            SceneConfig {
                objects: [4, 2],
                ..SceneConfig::default()
            },
            SceneConfig {
                fov_degrees: [0.0, 10.0],
                ..SceneConfig::default()
            },
        ] {
            assert!(Scene::random(&bad, 0).is_err(), "{bad:?}");
        }
    }
}
