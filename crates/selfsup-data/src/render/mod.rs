//! A procedural renderer of indoor-like scenes for the synthetic-imagery pretext task (Ren & Lee
//! 2018): random rooms with primitives, procedural textures and point lights, ray cast with
//! Lambertian shading and hard shadows. Every rendering comes with its per-pixel depth, surface
//! normals, instance ids and instance contours, pure Rust and deterministic by seed.
//!
//! ```
//! use selfsup_data::render::{Scene, SceneConfig, render};
//!
//! let scene = Scene::random(&SceneConfig::default(), 42)?;
//! let r = render(&scene, 48, 64)?;
//! assert_eq!(r.rgb.shape(), [3, 48, 64]);
//! assert_eq!(r.normals.shape(), [3, 48, 64]);
//! # Ok::<(), selfsup_data::DataError>(())
//! ```

mod files;
mod scene;
mod shapes;
mod vec3;

pub use files::{RENDERING_FILES, check_output_folder, check_scene_count, save_rendering};
pub use scene::{Camera, Light, Material, Object, Scene, SceneConfig, Texture};
pub use shapes::{EPSILON, Hit, Shape};
pub use vec3::Vec3;

use crate::error::{DataError, Result};
use crate::image::Image;

/// The largest side [`render`] accepts: a rendering holds about 40 bytes a pixel, so the
/// largest one takes about 670 MB.
pub const MAX_SIDE: usize = 4096;

/// Neighbouring pixels whose depths differ by more than this share of the nearer one lie on a
/// contour (an occluding edge), as do neighbours of different instances.
pub const DEPTH_JUMP: f32 = 0.1;

/// What a ray-cast scene looks like, with its per-pixel geometry.
#[derive(Clone, Debug, PartialEq)]
pub struct Rendering {
    /// `[3, height, width]` sRGB colours in `[0, 1]`.
    pub rgb: Image,
    /// `[1, height, width]` depth: the distance along the camera's optical axis (its z), positive
    /// and finite where a ray hit something, 0 where it left the scene.
    pub depth: Image,
    /// `[3, height, width]` unit surface normals in the camera frame (x right, y down, z
    /// forward), turned towards the camera, 0 where nothing was hit.
    pub normals: Image,
    /// Per pixel (row-major): the id of the object hit (its index in the scene's objects plus
    /// 1), 0 for none.
    pub instances: Vec<u16>,
    /// `[1, height, width]`: 1 on instance contours, 0 elsewhere. Of two 4-neighbours of
    /// different instances, or whose depths jump by more than [`DEPTH_JUMP`], the nearer one is
    /// marked (the occluding side; a missed pixel is the farthest).
    pub contours: Image,
}

impl Rendering {
    /// Whether pixel `i` (row-major) shows something.
    pub fn hit(&self, i: usize) -> bool {
        self.instances[i] != 0
    }
}

/// Refuses a rendering size of 0 or above [`MAX_SIDE`] pixels, saying the limit.
pub fn check_size(height: usize, width: usize) -> Result<()> {
    if height == 0 || width == 0 || height > MAX_SIDE || width > MAX_SIDE {
        return Err(DataError::invalid(
            "render",
            format!("{height}x{width} pixels: each side must be 1 to {MAX_SIDE} (memory)"),
        ));
    }
    Ok(())
}

/// The colour of rays that leave the scene (an open room's sky), linear RGB.
const SKY: Vec3 = Vec3::new(0.3, 0.45, 0.7);

/// The index and hit of the nearest object along a ray.
fn nearest(scene: &Scene, origin: Vec3, dir: Vec3) -> Option<(usize, Hit)> {
    let mut best: Option<(usize, Hit)> = None;
    for (i, object) in scene.objects.iter().enumerate() {
        let t_max = best.map_or(f32::INFINITY, |(_, h)| h.t);
        if let Some(hit) = object.shape.intersect(origin, dir, t_max) {
            best = Some((i, hit));
        }
    }
    best
}

/// Whether anything lies between `p` and `light`.
fn shadowed(scene: &Scene, p: Vec3, light: Vec3) -> bool {
    let to_light = light - p;
    let distance = to_light.length();
    let dir = to_light * (1.0 / distance);
    scene
        .objects
        .iter()
        .any(|o| o.shape.intersect(p, dir, distance).is_some())
}

/// Linear light to an sRGB value in `[0, 1]`.
fn encode(c: f32) -> f32 {
    let c = c.clamp(0.0, 1.0);
    if c <= 0.003_130_8 {
        12.92 * c
    } else {
        1.055 * c.powf(1.0 / 2.4) - 0.055
    }
}

/// Ray casts `scene` at `height` x `width` pixels (one ray a pixel through its centre; square
/// pixels, the camera's field of view vertical): Lambertian shading from each light that the
/// hit point sees, plus the scene's ambient share.
pub fn render(scene: &Scene, height: usize, width: usize) -> Result<Rendering> {
    check_size(height, width)?;
    if scene.objects.len() >= usize::from(u16::MAX) {
        return Err(DataError::invalid(
            "render",
            format!("{} objects: instance ids are 16-bit", scene.objects.len()),
        ));
    }
    let n = height * width;
    let (mut rgb, mut normals) = (vec![0.0f32; 3 * n], vec![0.0f32; 3 * n]);
    let (mut depth, mut instances) = (vec![0.0f32; n], vec![0u16; n]);
    let camera = &scene.camera;
    let [right, down, forward] = camera.frame();
    let tan = (camera.fov / 2.0).tan();
    let aspect = width as f32 / height as f32;
    for i in 0..height {
        let py = (2.0 * (i as f32 + 0.5) / height as f32 - 1.0) * tan;
        for j in 0..width {
            let px = (2.0 * (j as f32 + 0.5) / width as f32 - 1.0) * tan * aspect;
            let dir = (forward + right * px + down * py).normalized();
            let k = i * width + j;
            let colour = match nearest(scene, camera.position, dir) {
                None => SKY,
                Some((index, hit)) => {
                    let p = camera.position + dir * hit.t;
                    let normal = hit.normal;
                    depth[k] = hit.t * dir.dot(forward);
                    instances[k] = index as u16 + 1;
                    for (c, axis) in [right, down, forward].into_iter().enumerate() {
                        normals[c * n + k] = normal.dot(axis);
                    }
                    let lift = p + normal * (10.0 * EPSILON);
                    let light: Vec3 = scene
                        .lights
                        .iter()
                        .filter(|l| !shadowed(scene, lift, l.position))
                        .map(|l| l.intensity * normal.dot((l.position - p).normalized()).max(0.0))
                        .fold(Vec3::splat(scene.ambient), |a, b| a + b);
                    scene.objects[index].material.albedo(p).times(light)
                }
            };
            for (c, v) in colour.to_array().into_iter().enumerate() {
                rgb[c * n + k] = encode(v);
            }
        }
    }
    let contours = contours(&depth, &instances, height, width);
    Ok(Rendering {
        rgb: Image::new(3, height, width, rgb)?,
        depth: Image::new(1, height, width, depth)?,
        normals: Image::new(3, height, width, normals)?,
        instances,
        contours: Image::new(1, height, width, contours)?,
    })
}

/// Whether neighbours `a` and `b` lie on two sides of a contour.
fn boundary(depth: &[f32], instances: &[u16], a: usize, b: usize) -> bool {
    if instances[a] != instances[b] {
        return true;
    }
    let (da, db) = (depth[a], depth[b]);
    instances[a] != 0 && (da - db).abs() > DEPTH_JUMP * da.min(db)
}

/// The contour map: see [`Rendering::contours`].
fn contours(depth: &[f32], instances: &[u16], height: usize, width: usize) -> Vec<f32> {
    // A missed pixel counts as infinitely far.
    let far = |k: usize| {
        if instances[k] == 0 {
            f32::INFINITY
        } else {
            depth[k]
        }
    };
    let mut out = vec![0.0f32; height * width];
    for i in 0..height {
        for j in 0..width {
            let a = i * width + j;
            let right = (j + 1 < width).then_some(a + 1);
            let below = (i + 1 < height).then_some(a + width);
            for b in [right, below].into_iter().flatten() {
                if boundary(depth, instances, a, b) {
                    out[if far(a) <= far(b) { a } else { b }] = 1.0;
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One sphere straight ahead of a camera at the origin, lit from behind the camera.
    fn sphere_scene(distance: f32, radius: f32, fov: f32) -> Scene {
        Scene {
            camera: Camera {
                position: Vec3::default(),
                target: Vec3::new(0.0, 0.0, 1.0),
                fov,
            },
            lights: vec![Light {
                position: Vec3::new(0.0, 0.0, -1.0),
                intensity: Vec3::splat(1.0),
            }],
            objects: vec![Object {
                shape: Shape::Sphere {
                    center: Vec3::new(0.0, 0.0, distance),
                    radius,
                },
                material: Material::solid(Vec3::splat(0.8)),
            }],
            ambient: 0.1,
        }
    }

    #[test]
    fn a_sphere_renders_where_and_as_large_as_projection_says() {
        let (side, fov, distance, radius) = (101, 60f32.to_radians(), 5.0, 1.0);
        let r = render(&sphere_scene(distance, radius, fov), side, side).unwrap();
        // The silhouette of a sphere seen from distance D is a disc of angular radius
        // asin(R / D); its image radius is focal * tan(asin(R / D)).
        let focal = (side as f32 / 2.0) / (fov / 2.0).tan();
        let expected = focal * (radius / distance).asin().tan();
        let pixels = (0..side * side).filter(|&k| r.hit(k)).count() as f32;
        let measured = (pixels / std::f32::consts::PI).sqrt();
        assert!(
            (measured - expected).abs() < 0.5,
            "{measured} vs {expected}"
        );
        // Centred, at the sphere's near surface, facing the camera.
        let centre = side / 2 * side + side / 2;
        assert!(r.hit(centre));
        assert!((r.depth.data()[centre] - (distance - radius)).abs() < 1e-3);
        assert!((r.normals.data()[2 * side * side + centre] + 1.0).abs() < 1e-3);
        let (ys, xs): (Vec<usize>, Vec<usize>) = (0..side * side)
            .filter(|&k| r.hit(k))
            .map(|k| (k / side, k % side))
            .unzip();
        let mean = |v: &[usize]| v.iter().sum::<usize>() as f32 / v.len() as f32;
        assert!((mean(&ys) - 50.0).abs() < 0.01 && (mean(&xs) - 50.0).abs() < 0.01);
    }

    #[test]
    fn geometry_maps_are_consistent() {
        for seed in 0..6 {
            let scene = Scene::random(&SceneConfig::default(), seed).unwrap();
            let (h, w) = (40, 52);
            let r = render(&scene, h, w).unwrap();
            let n = h * w;
            for k in 0..n {
                let (d, normal) = (
                    r.depth.data()[k],
                    [0, 1, 2].map(|c| r.normals.data()[c * n + k]),
                );
                let length = normal.iter().map(|v| v * v).sum::<f32>().sqrt();
                if r.hit(k) {
                    assert!(d.is_finite() && d > 0.0, "seed {seed} pixel {k}: depth {d}");
                    assert!((length - 1.0).abs() < 1e-4, "normal length {length}");
                    // Towards the camera: against the pixel's ray, (x, y, 1) in the frame.
                    let tan = (scene.camera.fov / 2.0).tan();
                    let (i, j) = ((k / w) as f32 + 0.5, (k % w) as f32 + 0.5);
                    let ray = [
                        (2.0 * j / w as f32 - 1.0) * tan * w as f32 / h as f32,
                        (2.0 * i / h as f32 - 1.0) * tan,
                        1.0,
                    ];
                    let towards: f32 = ray.iter().zip(normal).map(|(a, b)| a * b).sum();
                    assert!(towards <= 1e-4, "seed {seed} pixel {k}: normal {normal:?}");
                } else {
                    assert_eq!((d, length), (0.0, 0.0));
                }
                assert!(r.rgb.data().iter().all(|v| (0.0..=1.0).contains(v)));
            }
            // Contour pixels lie on boundaries, and every boundary is marked on one side.
            let neighbours = |k: usize| {
                let (i, j) = (k / w, k % w);
                [
                    (i > 0).then(|| k - w),
                    (i + 1 < h).then_some(k + w),
                    (j > 0).then(|| k - 1),
                    (j + 1 < w).then_some(k + 1),
                ]
                .into_iter()
                .flatten()
            };
            let on = |k: usize| r.contours.data()[k] == 1.0;
            for k in 0..n {
                let across: Vec<usize> = neighbours(k)
                    .filter(|&b| boundary(r.depth.data(), &r.instances, k, b))
                    .collect();
                if on(k) {
                    assert!(
                        !across.is_empty(),
                        "seed {seed}: contour pixel {k} on no boundary"
                    );
                }
                for b in across {
                    assert!(on(k) || on(b), "seed {seed}: boundary {k}-{b} unmarked");
                }
            }
            assert!(r.contours.data().contains(&1.0), "a room has edges");
        }
    }

    #[test]
    fn shadows_darken_what_the_light_cannot_see() {
        // A light to the right of the camera casts the sphere's shadow on the wall behind it,
        // to the left of the sphere: there the wall gets the ambient light alone.
        let mut scene = sphere_scene(3.0, 0.4, 60f32.to_radians());
        scene.lights[0].position = Vec3::new(1.5, 0.0, 1.0);
        scene.objects.push(Object {
            shape: Shape::Quad {
                center: Vec3::new(0.0, 0.0, 6.0),
                u: Vec3::new(6.0, 0.0, 0.0),
                v: Vec3::new(0.0, 6.0, 0.0),
            },
            material: Material::solid(Vec3::splat(0.8)),
        });
        let r = render(&scene, 61, 61).unwrap();
        let wall: Vec<f32> = (0..61 * 61)
            .filter(|&k| r.instances[k] == 2)
            .map(|k| r.rgb.data()[k])
            .collect();
        let darkest = wall.iter().copied().fold(f32::INFINITY, f32::min);
        let brightest = wall.iter().copied().fold(0.0, f32::max);
        assert!(
            (darkest - encode(0.8 * 0.1)).abs() < 1e-4,
            "ambient only: {darkest}"
        );
        assert!(brightest > 2.0 * darkest, "{brightest} vs {darkest}");
        // The shadow lies left of the image centre (x < 0 in the camera frame).
        let shadowed: Vec<usize> = (0..61 * 61)
            .filter(|&k| r.instances[k] == 2 && r.rgb.data()[k] < darkest + 1e-4)
            .map(|k| k % 61)
            .collect();
        assert!(
            !shadowed.is_empty() && shadowed.iter().all(|&x| x < 30),
            "{shadowed:?}"
        );
    }

    #[test]
    fn sizes_are_checked() {
        let scene = Scene::random(&SceneConfig::default(), 0).unwrap();
        for (h, w) in [(0, 5), (5, 0), (MAX_SIDE + 1, 4)] {
            let err = render(&scene, h, w).unwrap_err().to_string();
            assert!(err.contains(&MAX_SIDE.to_string()), "{err}");
        }
    }
}
