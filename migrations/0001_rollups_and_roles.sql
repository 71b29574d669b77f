CREATE TABLE `room_hour_authors` (
	`room_id` char(26) NOT NULL,
	`hour` datetime NOT NULL,
	`author_id` char(26) NOT NULL,
	CONSTRAINT `room_hour_authors_room_id_hour_author_id_pk` PRIMARY KEY(`room_id`,`hour`,`author_id`)
);
--> statement-breakpoint
CREATE TABLE `room_hour_stats` (
	`room_id` char(26) NOT NULL,
	`hour` datetime NOT NULL,
	`messages` int unsigned NOT NULL DEFAULT 0,
	`authors` int unsigned NOT NULL DEFAULT 0,
	CONSTRAINT `room_hour_stats_room_id_hour_pk` PRIMARY KEY(`room_id`,`hour`)
);
--> statement-breakpoint
ALTER TABLE `users` ADD `role` varchar(16) DEFAULT 'user' NOT NULL;--> statement-breakpoint
CREATE INDEX `room_hour_stats_hour_idx` ON `room_hour_stats` (`hour`);