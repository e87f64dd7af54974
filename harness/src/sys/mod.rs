//! The bottom of the actor side: the only place that forks, clones, makes
//! pipes and reaps, with the errno helpers, the typed messages a probe's
//! processes send to its supervisor, the one typed helper process
//! (`helper`), the running of other programs (`command`), and the asking of
//! a tool from the harness (`tool`).

pub mod board;
pub mod clone;
pub mod command;
pub mod errno;
pub mod fdpass;
pub mod helper;
pub mod message;
pub mod ns;
pub mod pipe;
pub mod process;
pub mod spare;
pub mod spawner;
pub mod tool;
