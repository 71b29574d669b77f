CREATE TABLE `messages` (
	`room_id` char(26) NOT NULL,
	`seq` bigint unsigned NOT NULL,
	`id` char(26) NOT NULL,
	`author_id` char(26) NOT NULL,
	`client_msg_id` varchar(64),
	`body` text NOT NULL,
	`body_bytes` int unsigned NOT NULL,
	`created_at` datetime(3) NOT NULL,
	CONSTRAINT `messages_room_id_seq_pk` PRIMARY KEY(`room_id`,`seq`)
);
--> statement-breakpoint
CREATE TABLE `profiles` (
	`user_id` char(26) NOT NULL,
	`display_name` varchar(64) NOT NULL,
	`bio` varchar(500) NOT NULL DEFAULT '',
	`avatar_url` varchar(2048),
	`location` varchar(100),
	`created_at` datetime(3) NOT NULL,
	`updated_at` datetime(3) NOT NULL,
	CONSTRAINT `profiles_user_id` PRIMARY KEY(`user_id`)
);
--> statement-breakpoint
CREATE TABLE `refresh_tokens` (
	`id` char(26) NOT NULL,
	`user_id` char(26) NOT NULL,
	`family_id` char(26) NOT NULL,
	`token_hash` char(64) NOT NULL,
	`expires_at` datetime(3) NOT NULL,
	`rotated_at` datetime(3),
	`revoked_at` datetime(3),
	`created_at` datetime(3) NOT NULL,
	CONSTRAINT `refresh_tokens_id` PRIMARY KEY(`id`),
	CONSTRAINT `refresh_tokens_hash_uq` UNIQUE(`token_hash`)
);
--> statement-breakpoint
CREATE TABLE `room_members` (
	`room_id` char(26) NOT NULL,
	`user_id` char(26) NOT NULL,
	`role` varchar(16) NOT NULL DEFAULT 'member',
	`last_read_seq` bigint unsigned NOT NULL DEFAULT 0,
	`joined_at` datetime(3) NOT NULL,
	CONSTRAINT `room_members_room_id_user_id_pk` PRIMARY KEY(`room_id`,`user_id`)
);
--> statement-breakpoint
CREATE TABLE `rooms` (
	`id` char(26) NOT NULL,
	`name` varchar(100) NOT NULL,
	`is_private` boolean NOT NULL DEFAULT false,
	`owner_id` char(26) NOT NULL,
	`created_at` datetime(3) NOT NULL,
	CONSTRAINT `rooms_id` PRIMARY KEY(`id`)
);
--> statement-breakpoint
CREATE TABLE `users` (
	`id` char(26) NOT NULL,
	`email` varchar(254) NOT NULL,
	`password_hash` varchar(255) NOT NULL,
	`created_at` datetime(3) NOT NULL,
	CONSTRAINT `users_id` PRIMARY KEY(`id`),
	CONSTRAINT `users_email_uq` UNIQUE(`email`)
);
--> statement-breakpoint
CREATE INDEX `messages_room_created_idx` ON `messages` (`room_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `refresh_tokens_family_idx` ON `refresh_tokens` (`family_id`);--> statement-breakpoint
CREATE INDEX `refresh_tokens_user_idx` ON `refresh_tokens` (`user_id`);--> statement-breakpoint
CREATE INDEX `room_members_user_idx` ON `room_members` (`user_id`);--> statement-breakpoint
CREATE INDEX `rooms_created_idx` ON `rooms` (`created_at`,`id`);